//! `uchbot shell`: a newcomer walks the journey in the terminal with nothing configured —
//! numbered buttons, letters printed, demo payment — on the same dispatcher as `serve`.
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{ChildStdin, ChildStdout, Command};

struct Shell {
    stdin: ChildStdin,
    stdout: ChildStdout,
    seen: String,
}

impl Shell {
    /// Everything printed until the next prompt.
    async fn until_prompt(&mut self) -> String {
        let start = self.seen.len();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut buf = [0u8; 4096];
        loop {
            if self.seen[start..].ends_with("\n> ") {
                return self.seen[start..].to_owned();
            }
            let n = tokio::time::timeout_at(deadline.into(), self.stdout.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("no prompt; output so far:\n{}", &self.seen[start..]))
                .unwrap();
            assert!(n > 0, "shell exited; output:\n{}", self.seen);
            self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }

    async fn type_line(&mut self, line: &str) -> String {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        self.until_prompt().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_enrolls_in_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_uchbot"))
        .args([
            "shell",
            "--db",
            dir.path().join("shell.db").to_str().unwrap(),
        ])
        .current_dir(dir.path())
        .env_remove("TELOXIDE_TOKEN")
        .env("RUST_LOG", "error")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut shell = Shell {
        stdin: child.stdin.take().unwrap(),
        stdout: child.stdout.take().unwrap(),
        seen: String::new(),
    };
    let greeting = shell.until_prompt().await;
    assert!(greeting.contains("Здравствуйте"), "{greeting}");
    assert!(greeting.contains("[2] ✅ Согласен"), "{greeting}");
    assert!(shell
        .type_line("2")
        .await
        .contains("адрес электронной почты"));
    let letter = shell.type_line("masha@example.org").await;
    let at = letter.find("адреса: ").expect("the letter is printed") + "адреса: ".len();
    let code = letter[at..at + 6].to_owned();
    assert!(shell.type_line(&code).await.contains("подтверждён"));
    assert!(shell.type_line("1").await.contains("Выберите раздел"));
    let section = shell.type_line("1").await;
    assert!(section.contains("Оказание первой помощи"), "{section}");
    let n = section
        .lines()
        .find(|l| l.contains("Оказание первой помощи"))
        .unwrap();
    let number = n
        .trim_start()
        .trim_start_matches('[')
        .split(']')
        .next()
        .unwrap()
        .to_owned();
    let card = shell.type_line(&number).await;
    assert!(card.contains("16 часов"), "{card}");
    let offer = shell.type_line("1").await;
    assert!(offer.contains("Договор-оферта"), "{offer}");
    let accept = offer.lines().find(|l| l.contains("] ✅ Принимаю")).unwrap();
    let number = accept
        .split('[')
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap()
        .to_owned();
    let demo = shell.type_line(&number).await;
    assert!(demo.contains("Демо-режим"), "{demo}");
    let paid = shell.type_line("1").await;
    assert!(paid.contains("получена"), "{paid}");
    assert!(shell.type_line("1").await.contains("Вопрос 1 из 10"));
    shell.stdin.write_all(b"/quit\n").await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}
