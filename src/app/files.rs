//! Learners' document files on disk, named by content hash: the same file is kept once, a
//! write is atomic (temporary file, then rename), and names never carry personal data.
use std::path::PathBuf;

use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct DocumentFiles {
    dir: PathBuf,
}

/// The kinds of file accepted as document scans, by their real content.
pub const ACCEPTED_TYPES: [&str; 5] = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/heic",
    "image/heif",
];

/// The real type of a file by its content, if it is one we accept.
pub fn accepted_type(bytes: &[u8]) -> Option<&'static str> {
    let kind = infer::get(bytes)?;
    ACCEPTED_TYPES
        .iter()
        .copied()
        .find(|t| *t == kind.mime_type())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl DocumentFiles {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(key)
    }

    /// Stores the bytes; returns the storage key (their SHA-256).
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let key = sha256_hex(bytes);
        let path = self.path(&key);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(key);
        }
        let parent = path.parent().expect("key has a folder");
        tokio::fs::create_dir_all(parent).await?;
        let tmp = parent.join(format!(".{key}.{}.tmp", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(key)
    }

    pub async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a storage key",
            ));
        }
        tokio::fs::read(self.path(key)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_stored_once_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let files = DocumentFiles::new(dir.path().to_owned());
        let a = files.put(b"%PDF-1.4 test").await.unwrap();
        let b = files.put(b"%PDF-1.4 test").await.unwrap();
        assert_eq!(a, b);
        assert_eq!(files.get(&a).await.unwrap(), b"%PDF-1.4 test");
        assert!(files.get("../../etc/passwd").await.is_err());
    }

    #[test]
    fn real_type_comes_from_content_not_name() {
        assert_eq!(accepted_type(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(
            accepted_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F']),
            Some("image/jpeg")
        );
        assert_eq!(accepted_type(b"MZ\x90\x00 an exe"), None);
        assert_eq!(accepted_type(b"just text"), None);
    }
}
