//! Real mail servers on loopback for tests: Dovecot (IMAP with IDLE, LMTP, SASL for
//! Postfix) and Postfix (SMTP delivering into Dovecot over LMTP), each test with its own
//! instance in its own temporary directory on free random ports.
//!
//! Needs root and the Debian packages installed by `.ci/install-mail-servers.sh`.
//! Neither server touches the system configuration: every path (config, queue, state,
//! sockets, logs, maildirs) lives under the temporary directory, and both run in the
//! foreground as children of the test, so that `Drop` stops them and a killed test
//! process takes them down too (`PR_SET_PDEATHSIG`).
//!
//! Measured on the 2-core development machine: start ≈0.12 s per instance (TLS material
//! ≈60 ms, Dovecot ≈20 ms, Postfix ≈10 ms), stop ≈1.1 s (Dovecot waits for its
//! children). Delivery SMTP → Postfix → LMTP → Dovecot takes ≈40 ms. So every test
//! gets its own servers.
//!
//! Listeners (all on 127.0.0.1):
//! - `smtp_port`: plain SMTP with optional STARTTLS, no authentication, accepts mail
//!   only for the local domains (relaying elsewhere is refused with 554);
//! - `submission_port`: STARTTLS required, then AUTH (Dovecot SASL) required;
//! - `smtps_port`: implicit TLS, then AUTH required;
//! - `imap_port`: IMAP with STARTTLS offered; `imaps_port`: implicit TLS.
//!
//! The server certificate is issued for `localhost` and `127.0.0.1` by a throw-away CA
//! whose PEM file is `ca_pem_path()`.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A mailbox on the test server.
#[derive(Debug, Clone, Copy)]
pub struct MailUser {
    pub address: &'static str,
    pub password: &'static str,
}

/// The school's own mailbox (where learners write and replies come back).
pub const TEACH: MailUser = MailUser {
    address: "teach@school.test",
    password: "teach-secret-1",
};
/// A learner with a mailbox on the same server, so tests can read what the school sent.
pub const LEARNER: MailUser = MailUser {
    address: "learner@example.test",
    password: "learner-secret-2",
};
/// A second learner.
pub const OTHER_LEARNER: MailUser = MailUser {
    address: "ivanova@example.test",
    password: "ivanova-secret-3",
};
pub const USERS: [MailUser; 3] = [TEACH, LEARNER, OTHER_LEARNER];
/// An address Postfix accepts but Dovecot does not know: a letter to it is accepted by
/// SMTP and then bounces (a real delivery status notification to the sender).
pub const GONE: &str = "gone@example.test";
/// Domains the server delivers locally; everything else is refused (no relaying).
pub const LOCAL_DOMAINS: [&str; 2] = ["school.test", "example.test"];

/// Knobs for unusual server behaviour that the client must cope with.
#[derive(Debug, Clone, Copy)]
pub struct MailServerOptions {
    /// Advertise the IMAP MOVE extension (RFC 6851). Dovecot supports it; switching it
    /// off exercises the client's COPY + flag fallback against a real server.
    pub advertise_move: bool,
}

impl Default for MailServerOptions {
    fn default() -> Self {
        Self {
            advertise_move: true,
        }
    }
}

pub struct MailServer {
    pub smtp_port: u16,
    pub submission_port: u16,
    pub smtps_port: u16,
    pub imap_port: u16,
    pub imaps_port: u16,
    /// How long `start` took (both servers listening).
    pub startup: Duration,
    postfix: Option<Child>,
    dovecot: Option<Child>,
    options: MailServerOptions,
    lmtp_socket: PathBuf,
    // Declared last: removed after both servers have stopped.
    dir: tempfile::TempDir,
}

const ATTEMPTS: usize = 4;
const READY_TIMEOUT: Duration = Duration::from_secs(15);

impl MailServer {
    /// Starts Dovecot and Postfix with default options. Panics with the servers' logs
    /// when they cannot start (a test cannot go on without them).
    pub fn start() -> MailServer {
        Self::start_with(MailServerOptions::default())
    }

    pub fn start_with(options: MailServerOptions) -> MailServer {
        let started = Instant::now();
        let mut last_error = String::new();
        // A free port found by binding to port 0 can be taken by another process before
        // the server binds it; then start again on new ports.
        for _ in 0..ATTEMPTS {
            match Self::try_start(options, started) {
                Ok(server) => return server,
                Err(error) => last_error = error,
            }
        }
        panic!("mail servers failed to start {ATTEMPTS} times; last error:\n{last_error}");
    }

    fn try_start(options: MailServerOptions, started: Instant) -> Result<MailServer, String> {
        for tool in ["/usr/sbin/dovecot", "/usr/sbin/postfix", "/usr/bin/openssl"] {
            if !Path::new(tool).exists() {
                return Err(format!(
                    "{tool} is missing: run .ci/install-mail-servers.sh as root first"
                ));
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("uchbot-mail-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        // Postfix daemons (user postfix) and Dovecot's mail processes (user nobody)
        // must be able to traverse it.
        set_mode(dir.path(), 0o755)?;
        let ports = free_ports::<5>()?;
        let [smtp_port, submission_port, smtps_port, imap_port, imaps_port] = ports;

        make_tls_material(dir.path())?;
        let dovecot_base = dir.path().join("dovecot-run");
        let mut server = MailServer {
            smtp_port,
            submission_port,
            smtps_port,
            imap_port,
            imaps_port,
            startup: Duration::ZERO,
            postfix: None,
            dovecot: None,
            options,
            lmtp_socket: dovecot_base.join("lmtp"),
            dir,
        };
        server.start_dovecot(options)?;
        server.start_postfix()?;
        server.startup = started.elapsed();
        Ok(server)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn start_dovecot(&mut self, options: MailServerOptions) -> Result<(), String> {
        let root = self.dir.path().to_path_buf();
        let mail = root.join("maildirs");
        fs::create_dir_all(&mail).map_err(|e| format!("{}: {e}", mail.display()))?;
        chown(&mail, "nobody", "nogroup")?;
        let users: String = USERS
            .iter()
            .map(|u| format!("{}:{{PLAIN}}{}::::::\n", u.address, u.password))
            .collect();
        write(&root.join("dovecot-users"), &users)?;

        let capability = if options.advertise_move {
            String::new()
        } else {
            // Dovecot 2.3's post-login capabilities without MOVE.
            "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT \
             SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND \
             URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED \
             I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH \
             LIST-STATUS BINARY LITERAL+\n"
                .to_string()
        };
        let r = root.display();
        let config = format!(
            r#"# Generated for one test; see tests/support/mail_server.rs
protocols = imap lmtp
listen = 127.0.0.1
base_dir = {r}/dovecot-run
state_dir = {r}/dovecot-state
instance_name = uchbot-test-{imap}
log_path = {r}/dovecot.log
ssl = yes
ssl_cert = <{r}/server.pem
ssl_key = <{r}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
# Dovecot delays failed logins by 2 s; tests of a wrong password need no such delay.
auth_failure_delay = 0
mail_location = maildir:{r}/maildirs/%d/%n
first_valid_uid = 0
default_internal_user = dovecot
default_login_user = dovenull
recipient_delimiter = +
{capability}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/dovecot-users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={r}/maildirs/%d/%n
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
}}
service submission-login {{
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@school.test
}}
"#,
            imap = self.imap_port,
            imaps = self.imaps_port,
        );
        let config_path = root.join("dovecot.conf");
        write(&config_path, &config)?;
        let child = spawn_tied_to_test(
            Command::new("/usr/sbin/dovecot")
                .arg("-F")
                .arg("-c")
                .arg(&config_path),
            Stdio::null(),
        )?;
        self.dovecot = Some(child);
        let log = root.join("dovecot.log");
        self.wait_until_listening(self.imap_port, "dovecot", &log)?;
        self.wait_until_listening(self.imaps_port, "dovecot", &log)?;
        Ok(())
    }

    fn start_postfix(&mut self) -> Result<(), String> {
        let root = self.dir.path().to_path_buf();
        let etc = root.join("postfix-etc");
        let queue = root.join("postfix-queue");
        let data = root.join("postfix-data");
        let log_dir = root.join("postfix-log");
        for d in [&etc, &queue, &log_dir] {
            fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let r = root.display();
        let mailboxes: Vec<String> = USERS
            .iter()
            .map(|u| u.address)
            .chain([GONE])
            .map(|address| format!("{address}=ok"))
            .collect();
        let main_cf = format!(
            r#"# Generated for one test; see tests/support/mail_server.rs
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.school.test
mydomain = school.test
myorigin = school.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = reject_unauth_destination
smtpd_banner = $myhostname ESMTP
virtual_mailbox_domains = {domains}
virtual_mailbox_maps = inline:{{ {mailboxes} }}
virtual_transport = lmtp:unix:{lmtp}
recipient_delimiter = +
relayhost =
default_transport = error:this test server delivers locally only
alias_maps =
alias_database =
smtputf8_enable = yes
biff = no
# No syslog here; the master (run with -s) and postlogd write to the master's
# stdout, which the launcher sends to postfix.log.
maillog_file = /dev/stdout
syslog_name = uchbot-test-postfix
smtpd_tls_cert_file = {r}/server.pem
smtpd_tls_key_file = {r}/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {r}/dovecot-run/auth-postfix
"#,
            queue = queue.display(),
            data = data.display(),
            domains = LOCAL_DOMAINS.join(" "),
            mailboxes = mailboxes.join(", "),
            lmtp = self.lmtp_socket.display(),
        );
        let auth_required = "  -o smtpd_sasl_auth_enable=yes\n  \
            -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n  \
            -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n";
        let master_cf = format!(
            "127.0.0.1:{smtp} inet n - n - - smtpd\n\
             127.0.0.1:{submission} inet n - n - - smtpd\n  \
             -o smtpd_tls_security_level=encrypt\n{auth_required}\
             127.0.0.1:{smtps} inet n - n - - smtpd\n  \
             -o smtpd_tls_wrappermode=yes\n{auth_required}\
             pickup    unix  n - n 60 1 pickup\n\
             cleanup   unix  n - n - 0 cleanup\n\
             qmgr      unix  n - n 300 1 qmgr\n\
             rewrite   unix  - - n - - trivial-rewrite\n\
             bounce    unix  - - n - 0 bounce\n\
             defer     unix  - - n - 0 bounce\n\
             trace     unix  - - n - 0 bounce\n\
             verify    unix  - - n - 1 verify\n\
             flush     unix  n - n 1000? 0 flush\n\
             proxymap  unix  - - n - - proxymap\n\
             smtp      unix  - - n - - smtp\n\
             relay     unix  - - n - - smtp\n\
             error     unix  - - n - - error\n\
             retry     unix  - - n - - error\n\
             discard   unix  - - n - - discard\n\
             lmtp      unix  - - n - - lmtp\n\
             anvil     unix  - - n - 1 anvil\n\
             scache    unix  - - n - 1 scache\n\
             tlsmgr    unix  - - n 1000? 1 tlsmgr\n\
             postlog   unix-dgram n - n - 1 postlogd\n",
            smtp = self.smtp_port,
            submission = self.submission_port,
            smtps = self.smtps_port,
        );
        write(&etc.join("main.cf"), &main_cf)?;
        write(&etc.join("master.cf"), &master_cf)?;
        // Postfix waits (in 300 ms naps, up to 2 s) until a config file is at least a
        // second old, in case it is still being edited: backdate ours.
        backdate(&etc.join("main.cf"))?;
        backdate(&etc.join("master.cf"))?;

        // The queue layout of Debian's /etc/postfix/postfix-files, created directly:
        // `postfix check` would do the same but takes seconds (it also scans the
        // whole installation).
        make_postfix_queue(&queue, &data)?;
        let log = log_dir.join("postfix.log");
        let log_file = fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let child = spawn_tied_to_test(
            Command::new(postfix_daemon_directory()?.join("master"))
                .arg("-c")
                .arg(&etc)
                .arg("-s"),
            Stdio::from(log_file),
        )?;
        self.postfix = Some(child);
        for port in [self.smtp_port, self.submission_port, self.smtps_port] {
            self.wait_until_listening(port, "postfix", &log)?;
        }
        Ok(())
    }

    fn wait_until_listening(&mut self, port: u16, which: &str, log: &Path) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            let child = if which == "dovecot" {
                self.dovecot.as_mut()
            } else {
                self.postfix.as_mut()
            };
            if let Some(child) = child {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "{which} exited with {status} before listening on {port}; log:\n{}",
                        fs::read_to_string(log).unwrap_or_default()
                    ));
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{which} not listening on {port} after {READY_TIMEOUT:?}; log:\n{}",
                    fs::read_to_string(log).unwrap_or_default()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A mail client's IMAP session of `user` (plain, on loopback), to APPEND or reshape
    /// mailboxes behind the bot's back.
    pub async fn imap_login(&self, user: &MailUser) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port))
            .await
            .unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().unwrap();
        client
            .login(user.address, user.password)
            .await
            .map_err(|(e, _)| e)
            .unwrap()
    }

    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// PEM file of the CA that issued the servers' certificate.
    pub fn ca_pem_path(&self) -> PathBuf {
        self.path("ca.pem")
    }

    /// The maildir of a user, to check from outside IMAP that nothing was deleted.
    pub fn maildir(&self, address: &str) -> PathBuf {
        let (local, domain) = address.split_once('@').expect("address with @");
        self.path("maildirs").join(domain).join(local)
    }

    /// Puts a raw RFC 5322 message into `to`'s INBOX through Dovecot's LMTP: when this
    /// returns, the message is in the mailbox. Panics when Dovecot refuses it.
    pub fn deliver(&self, to: &str, raw: &[u8]) {
        if let Err(error) = lmtp_deliver(&self.lmtp_socket, "sender@outside.test", to, raw) {
            panic!(
                "LMTP delivery to {to} failed: {error}\nDovecot log:\n{}",
                fs::read_to_string(self.path("dovecot.log")).unwrap_or_default()
            );
        }
    }

    /// Postfix's log so far (to explain a failed test).
    pub fn postfix_log(&self) -> String {
        fs::read_to_string(self.path("postfix-log/postfix.log")).unwrap_or_default()
    }

    pub fn dovecot_log(&self) -> String {
        fs::read_to_string(self.path("dovecot.log")).unwrap_or_default()
    }

    /// Stops Postfix only (the SMTP port then refuses connections); Dovecot keeps running.
    pub fn stop_postfix(&mut self) {
        if let Some(child) = self.postfix.take() {
            stop_child(child);
        }
    }

    /// Starts Postfix again after [`MailServer::stop_postfix`], on the same ports (a server
    /// restarted by its admin).
    pub fn restart_postfix(&mut self) {
        self.stop_postfix();
        if let Err(error) = self.start_postfix() {
            panic!("postfix did not start again: {error}");
        }
    }

    /// Stops Dovecot (IMAP and LMTP then refuse connections; sessions are cut).
    pub fn stop_dovecot(&mut self) {
        if let Some(child) = self.dovecot.take() {
            stop_child(child);
            // The master leaves its log and stats processes and the IMAP sessions open
            // behind it: a restarted server has none of them.
            kill_processes_titled(&format!("dovecot-uchbot-test-{}/", self.imap_port));
        }
    }

    /// Starts Dovecot again on the same ports and mailboxes.
    pub fn restart_dovecot(&mut self) {
        self.stop_dovecot();
        if let Err(error) = self.start_dovecot(self.options) {
            panic!("dovecot did not start again: {error}");
        }
    }

    /// Drops a raw message straight into `to`'s INBOX maildir, as the MX does while the IMAP
    /// server is down; Dovecot sees it when it is back.
    pub fn drop_into_maildir(&self, to: &str, raw: &[u8]) {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let root = self.maildir(to);
        let dir = root.join("new");
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let name = format!(
            "{}.M{}P{}.uchbot-test",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_secs(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
            std::process::id()
        );
        let path = dir.join(name);
        fs::write(&path, raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        set_mode(&path, 0o644).expect("mode of the dropped letter");
        for d in [root.clone(), dir, path] {
            chown(&d, "nobody", "nogroup").expect("owner of the dropped letter");
        }
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        if let Some(child) = self.postfix.take() {
            stop_child(child);
        }
        self.stop_dovecot();
    }
}

/// Kills every process whose title (command line) starts with `prefix`.
fn kill_processes_titled(prefix: &str) {
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<libc::pid_t>() else {
            continue;
        };
        let title = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if title.starts_with(prefix.as_bytes()) {
            // SAFETY: plain kill(2) of a process of this test's own Dovecot instance.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// Asks a server to stop (both pass SIGTERM on to their own children), kills it if it
/// has not stopped after a few seconds, and reaps it.
fn stop_child(mut child: Child) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: plain kill(2) on the pid of our own child, which has not been reaped yet.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Spawns a server in the foreground whose death is tied to the test: if the test
/// process dies without running `Drop` (killed, aborted), the kernel sends the server
/// SIGTERM.
fn spawn_tied_to_test(command: &mut Command, output: Stdio) -> Result<Child, String> {
    command
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(Stdio::null());
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
        .spawn()
        .map_err(|e| format!("spawn {:?}: {e}", command.get_program()))
}

fn postfix_daemon_directory() -> Result<PathBuf, String> {
    let out = Command::new("/usr/sbin/postconf")
        .args(["-dh", "daemon_directory"])
        .output()
        .map_err(|e| format!("postconf: {e}"))?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if dir.is_empty() {
        return Err("postconf printed no daemon_directory".into());
    }
    Ok(PathBuf::from(dir))
}

/// Ports that were free a moment ago (all bound at once, so they are distinct).
fn free_ports<const N: usize>() -> Result<[u16; N], String> {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("bind 127.0.0.1:0: {e}"))?;
    let mut ports = [0u16; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener
            .local_addr()
            .map_err(|e| format!("local_addr: {e}"))?
            .port();
    }
    Ok(ports)
}

/// A throw-away CA and a server certificate for `localhost` / `127.0.0.1` (P-256 keys:
/// generated in milliseconds).
fn make_tls_material(dir: &Path) -> Result<(), String> {
    let openssl = |args: &[&str]| -> Result<(), String> {
        let out = Command::new("/usr/bin/openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("openssl: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "openssl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=uchbot test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ])?;
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ])?;
    write(
        &dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ])?;
    Ok(())
}

/// One LMTP transaction (RFC 2033) over Dovecot's unix socket.
fn lmtp_deliver(socket: &Path, from: &str, to: &str, raw: &[u8]) -> Result<(), String> {
    let stream = UnixStream::connect(socket).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut expect = |code: &str| -> Result<(), String> {
        loop {
            let mut line = String::new();
            reader
                .read_line(&mut line)
                .map_err(|e| format!("read: {e}"))?;
            if !line.starts_with(code) {
                return Err(format!("expected {code}, got {line:?}"));
            }
            // "250-" continues a multi-line reply, "250 " ends it.
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(());
            }
        }
    };
    let mut send = |text: &[u8]| writer.write_all(text).map_err(|e| format!("write: {e}"));
    expect("220")?;
    send(b"LHLO test.invalid\r\n")?;
    expect("250")?;
    send(format!("MAIL FROM:<{from}>\r\n").as_bytes())?;
    expect("250")?;
    send(format!("RCPT TO:<{to}>\r\n").as_bytes())?;
    expect("250")?;
    send(b"DATA\r\n")?;
    expect("354")?;
    send(&dot_stuff(raw))?;
    expect("250")?;
    send(b"QUIT\r\n")?;
    Ok(())
}

/// CRLF line endings, leading dots doubled, terminated by ".".
fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 16);
    let text = raw
        .strip_suffix(b"\r\n")
        .or(raw.strip_suffix(b"\n"))
        .unwrap_or(raw);
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn backdate(path: &Path) -> Result<(), String> {
    let past = std::time::SystemTime::now() - Duration::from_secs(60);
    fs::File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(past))
        .map_err(|e| format!("backdate {}: {e}", path.display()))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

fn chown(path: &Path, user: &str, group: &str) -> Result<(), String> {
    let uid = system_id("/etc/passwd", user)?;
    let gid = system_id("/etc/group", group)?;
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(|e| format!("chown {user}:{group} {}: {e}", path.display()))
}

/// The numeric id of a user (/etc/passwd) or group (/etc/group): third field.
fn system_id(file: &str, name: &str) -> Result<u32, String> {
    let text = fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    text.lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&name))
        .and_then(|fields| fields.get(2)?.parse().ok())
        .ok_or_else(|| format!("{name} not found in {file}"))
}

fn make_postfix_queue(queue: &Path, data: &Path) -> Result<(), String> {
    let make = |path: &Path, user: &str, group: &str, mode: u32| -> Result<(), String> {
        fs::create_dir_all(path).map_err(|e| format!("{}: {e}", path.display()))?;
        chown(path, user, group)?;
        set_mode(path, mode)
    };
    make(data, "postfix", "postfix", 0o700)?;
    make(queue, "root", "root", 0o755)?;
    make(&queue.join("pid"), "root", "root", 0o755)?;
    for private in [
        "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private",
        "saved", "trace",
    ] {
        make(&queue.join(private), "postfix", "postfix", 0o700)?;
    }
    make(&queue.join("maildrop"), "postfix", "postdrop", 0o730)?;
    make(&queue.join("public"), "postfix", "postdrop", 0o710)?;
    Ok(())
}
