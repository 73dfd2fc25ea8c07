//! Learners' document files on disk: encrypted at rest (ChaCha20-Poly1305, key from
//! configuration), named by the SHA-256 of their content so the same file is kept once,
//! written atomically (temporary file, then rename); names never carry personal data.
use std::path::PathBuf;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

/// Marks the file format (and its version) at the start of every stored file.
const MAGIC: &[u8; 6] = b"UCHB1\n";
const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct DocumentFiles {
    dir: PathBuf,
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for DocumentFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentFiles")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
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

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

impl DocumentFiles {
    pub fn new(dir: PathBuf, key: &[u8; 32]) -> Self {
        Self {
            dir,
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    fn path(&self, key: &str) -> std::io::Result<PathBuf> {
        if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a storage key",
            ));
        }
        Ok(self.dir.join(&key[..2]).join(key))
    }

    /// Stores the bytes encrypted; returns the storage key (the SHA-256 of the plain bytes).
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let key = sha256_hex(bytes);
        let path = self.path(&key)?;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(key);
        }
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, bytes)
            .map_err(|_| invalid("encryption failed"))?;
        let mut file = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
        file.extend_from_slice(MAGIC);
        file.extend_from_slice(&nonce);
        file.extend_from_slice(&sealed);
        let parent = path.parent().expect("key has a folder");
        tokio::fs::create_dir_all(parent).await?;
        let tmp = parent.join(format!(".{key}.{}.tmp", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&tmp, &file).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(key)
    }

    /// The plain bytes of a stored file (refused when tampered with or under another key).
    pub async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        let file = tokio::fs::read(self.path(key)?).await?;
        let body = file
            .strip_prefix(MAGIC.as_slice())
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(|| invalid("not an uchbot document file"))?;
        let (nonce, sealed) = body.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| invalid("document file does not decrypt: wrong key or damaged"))?;
        if sha256_hex(&plain) != key {
            return Err(invalid("document file does not match its key"));
        }
        Ok(plain)
    }

    /// Destroys a stored file (withdrawn consent). Missing files are fine.
    pub async fn delete(&self, key: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_encrypted_and_stored_once_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let files = DocumentFiles::new(dir.path().to_owned(), &[7; 32]);
        let scan = b"%PDF-1.4 passport 4510 123456";
        let a = files.put(scan).await.unwrap();
        let b = files.put(scan).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(files.get(&a).await.unwrap(), scan);
        let on_disk = std::fs::read(dir.path().join(&a[..2]).join(&a)).unwrap();
        assert!(
            !on_disk.windows(6).any(|w| w == b"123456"),
            "no plain text on disk"
        );
        let other_key = DocumentFiles::new(dir.path().to_owned(), &[8; 32]);
        assert!(
            other_key.get(&a).await.is_err(),
            "another key cannot read it"
        );
        assert!(files.get("../../etc/passwd").await.is_err());
        files.delete(&a).await.unwrap();
        assert!(files.get(&a).await.is_err());
        files.delete(&a).await.unwrap();
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
