//! `uchbot shell`: the real dispatcher against an in-process Bot API, with the terminal as the
//! learner's Telegram app: messages print as text, buttons as numbered choices.
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::app::letters::TerminalMail;
use crate::app::payments::Provider;
use crate::app::{outbox, App};
use crate::config::Settings;
use crate::journey::reply::plain_text;
use crate::telegram::fake_api::{BotMessage, FakeBotApi, FakeUser};
use crate::texts::Texts;
use crate::tr;

/// The example catalog and the offer it refers to, built into the binary.
pub const EXAMPLE_CATALOG: &str = include_str!("../dialogues/catalog.example.toml");

pub async fn run(mut settings: Settings, db: PathBuf) -> anyhow::Result<()> {
    settings.database.url = format!("sqlite://{}", db.display());
    settings.telegram.staff_chat_id = 0;
    settings.storage.encryption_key = Some(shell_key(&db)?.into());
    if settings.storage.documents_dir == crate::config::StorageSettings::default().documents_dir {
        settings.storage.documents_dir = db.with_extension("documents");
    }
    let store = crate::cli::open_store(&settings).await?;
    let catalog = crate::catalog::example_catalog()?;
    {
        let mut tx = store.begin().await?;
        crate::store::catalog::import(&mut tx, &catalog).await?;
        tx.commit().await?;
    }
    let out: Arc<dyn Fn(String) + Send + Sync> = Arc::new(|s: String| {
        print!("\n{s}");
        let _ = std::io::stdout().flush();
    });
    let mail = TerminalMail { out: out.clone() };
    let app = Arc::new(App::new(
        &settings,
        store,
        Provider::Demo,
        Some(Arc::new(mail)),
    )?);
    // This session's fake numbers updates from 1 again: forget the last session's.
    sqlx::query("DELETE FROM processed_updates")
        .execute(app.store.pool())
        .await?;
    sqlx::query("DELETE FROM telegram_inbox")
        .execute(app.store.pool())
        .await?;
    let fake = FakeBotApi::start().await?;
    let running = crate::telegram::runner::start(app.clone(), fake.bot()).await?;
    crate::scheduler::plan_on_start(&app).await?;
    let scheduler = tokio::spawn(crate::scheduler::run(
        app.clone(),
        running.bulk_messenger.clone(),
        running.workers.clone(),
    ));
    let mut handled = running.handled.subscribe();
    let texts = Texts::russian();
    let user = FakeUser::new(1001, tr!(texts, "shell-user-name"));
    let chat = user.id;

    println!(
        "{}",
        tr!(texts, "shell-banner", db = db.display().to_string())
    );
    let mut seen: HashMap<i32, String> = HashMap::new();
    let mut last_buttons: Vec<(i32, String, Option<String>)> = Vec::new();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut pending = Some(fake.send_text(&user, "/start"));
    loop {
        if let Some(update_id) = pending.take() {
            wait_handled(&mut handled, update_id).await;
            let _ = outbox::run_once(&app, running.bulk_messenger.as_ref(), outbox::EMAIL).await;
            for m in fake.messages(chat) {
                let shown = render(&m);
                if seen.get(&m.message_id) != Some(&shown) {
                    println!("\n{shown}");
                    seen.insert(m.message_id, shown);
                    if !m.inline_keyboard.is_empty() {
                        last_buttons = m
                            .buttons()
                            .map(|b| {
                                (
                                    m.message_id,
                                    b.callback_data.clone().unwrap_or_default(),
                                    b.url.clone(),
                                )
                            })
                            .collect();
                    }
                }
            }
        }
        print!("\n> ");
        let _ = std::io::stdout().flush();
        let Some(line) = lines.next_line().await? else {
            break;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if matches!(line, "/quit" | "/exit") {
            break;
        }
        // A short number presses a button; a longer one (a code, a SNILS) is text.
        if let Some(n) = line.parse::<usize>().ok().filter(|_| line.len() <= 2) {
            match last_buttons.get(n.wrapping_sub(1)) {
                Some((message_id, data, None)) => {
                    pending = fake.press_button(&user, chat, *message_id, data).ok();
                }
                Some((_, _, Some(url))) => {
                    println!("{}", tr!(texts, "shell-url", url = url.clone()))
                }
                None => println!("{}", tr!(texts, "shell-no-such-button")),
            }
            continue;
        }
        if let Some(path) = line.strip_prefix("/file ") {
            match std::fs::read(path.trim()) {
                Ok(bytes) => {
                    let name = std::path::Path::new(path.trim())
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "file".into());
                    let mime = infer::get(&bytes)
                        .map(|k| k.mime_type())
                        .unwrap_or("application/octet-stream");
                    pending = Some(fake.send_document(&user, &name, mime, bytes));
                }
                Err(e) => println!(
                    "{}",
                    tr!(texts, "shell-file-unreadable", error = e.to_string())
                ),
            }
            continue;
        }
        pending = Some(fake.send_text(&user, line));
    }
    running.stop().await;
    let _ = scheduler.await;
    fake.shutdown().await;
    app.store.close().await;
    Ok(())
}

/// The shell's own document key, kept beside its database (made on first run).
fn shell_key(db: &std::path::Path) -> anyhow::Result<String> {
    use base64::Engine;
    let path = db.with_extension("key");
    if let Ok(key) = std::fs::read_to_string(&path) {
        return Ok(key.trim().to_owned());
    }
    let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
    std::fs::write(&path, &key)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(key)
}

async fn wait_handled(handled: &mut tokio::sync::broadcast::Receiver<i64>, update_id: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, handled.recv()).await {
            Ok(Ok(id)) if id >= update_id => return,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            _ => return,
        }
    }
}

fn render(m: &BotMessage) -> String {
    let mut out = String::new();
    let text = m
        .shown_text()
        .map(str::to_owned)
        .unwrap_or_else(|| m.source_text.as_deref().map(plain_text).unwrap_or_default());
    out.push_str(&text);
    if let Some(doc) = &m.document {
        out.push_str(&format!(
            "\n📎 {}",
            doc.file_name.clone().unwrap_or_default()
        ));
    }
    let mut n = 0;
    for row in &m.inline_keyboard {
        let cells: Vec<String> = row
            .iter()
            .map(|b| {
                n += 1;
                match &b.url {
                    Some(url) => format!("[{n}] {} ↗ {url}", b.text),
                    None => format!("[{n}] {}", b.text),
                }
            })
            .collect();
        out.push_str("\n   ");
        out.push_str(&cells.join("   "));
    }
    out
}
