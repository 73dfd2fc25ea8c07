//! The ingestion entry point for raw bytes: whatever arrives in the school's mailbox goes
//! through `examine` first (parse, limits, attachments at any depth, reply tokens,
//! Authentication-Results, the reply text). It must never panic or hang.
//!
//!     cargo +nightly fuzz run examine fuzz/corpus/examine tests/fixtures/mail
#![no_main]

use libfuzzer_sys::fuzz_target;
use uchbot::email::{examine, MailLimits};

fuzz_target!(|raw: &[u8]| {
    let limits = MailLimits::for_document_scans();
    if let Ok(examined) = examine(raw, &limits, "teach", "mx.school.test") {
        // The parts the intake reads next must hold together.
        for attachment in &examined.mail.attachments {
            assert!(attachment.bytes.len() <= limits.max_attachment_bytes);
            assert!(!attachment.file_name.is_empty());
        }
        assert!(examined.mail.attachments.len() <= limits.max_attachments);
    }
});
