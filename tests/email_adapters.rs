#[path = "support/mail_server.rs"]
mod mail_server;

use mail_server::*;

#[test]
fn smoke() {
    let mut s = MailServer::start();
    eprintln!("startup {:?}", s.startup);
    s.deliver(
        TEACH.address,
        b"Subject: hi\r\nFrom: a@b.test\r\n\r\n.dot\r\nbody\r\n",
    );
    let t = std::time::Instant::now();
    s.stop_postfix();
    eprintln!("stop postfix {:?}", t.elapsed());
    let t = std::time::Instant::now();
    drop(s);
    eprintln!("stop {:?}", t.elapsed());
}
