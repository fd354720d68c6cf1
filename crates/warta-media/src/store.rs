//! Content-addressed storage of attachment bytes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::{MediaError, SNIFF_LEN};

/// Blobs named by the SHA-256 of their content: `root/ab/cdef…` (hex, two-character fan-out).
///
/// Uploads are written to `root/tmp/` and renamed into place only once complete, so a blob
/// path either does not exist or holds the whole content. The same content is stored once.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

/// What [`BlobStore::put_stream`] and [`BlobStore::put_bytes`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// Length of the content in bytes.
    pub size: u64,
    /// The first [`SNIFF_LEN`] bytes (fewer for a smaller file), for [`crate::detect`].
    pub head: Vec<u8>,
}

impl BlobStore {
    /// Opens the store at `root`, creating the folder if needed.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, MediaError> {
        let root = root.into();
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Self { root })
    }

    /// The folder the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Streams `reader` into the store, hashing as it goes.
    ///
    /// Fails with [`MediaError::TooLarge`] as soon as more than `max_bytes` have been read,
    /// leaving nothing behind. An axum request body can be adapted with
    /// `tokio_util::io::StreamReader::new(body.into_data_stream().map_err(io::Error::other))`.
    pub async fn put_stream<R>(
        &self,
        mut reader: R,
        max_bytes: u64,
    ) -> Result<StoredBlob, MediaError>
    where
        R: AsyncRead + Unpin,
    {
        // Dropping `temp` (on any early return) deletes the partial file.
        let temp = self.temp_file()?;
        let mut out = tokio::fs::File::from_std(temp.as_file().try_clone()?);
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(SNIFF_LEN);
        let mut size: u64 = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > max_bytes {
                return Err(MediaError::TooLarge { limit: max_bytes });
            }
            let chunk = &buf[..n];
            hasher.update(chunk);
            let want = SNIFF_LEN.saturating_sub(head.len()).min(n);
            head.extend_from_slice(&chunk[..want]);
            out.write_all(chunk).await?;
        }
        out.flush().await?;
        out.sync_all().await?;
        drop(out);
        let sha256 = hex::encode(hasher.finalize());
        self.commit(temp, &sha256)?;
        Ok(StoredBlob { sha256, size, head })
    }

    /// Stores `bytes` (for tests and the command line; uploads use [`Self::put_stream`]).
    pub fn put_bytes(&self, bytes: &[u8], max_bytes: u64) -> Result<StoredBlob, MediaError> {
        if bytes.len() as u64 > max_bytes {
            return Err(MediaError::TooLarge { limit: max_bytes });
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        if !self.exists(&sha256) {
            let mut temp = self.temp_file()?;
            temp.write_all(bytes)?;
            temp.as_file().sync_all()?;
            self.commit(temp, &sha256)?;
        }
        Ok(StoredBlob {
            sha256,
            size: bytes.len() as u64,
            head: bytes[..bytes.len().min(SNIFF_LEN)].to_vec(),
        })
    }

    /// Moves a complete file (a finished resumable upload) into the store, if its bytes hash
    /// to `expected_sha256`. Blocking: the file is read once, streamed, to hash it.
    ///
    /// On a mismatch nothing is stored, `path` is left where it is, and the error is
    /// [`MediaError::DigestMismatch`]. `path` must be on the store's file system (it is renamed,
    /// not copied); when the content is already stored, `path` is removed instead.
    pub fn adopt_file(&self, path: &Path, expected_sha256: &str) -> Result<StoredBlob, MediaError> {
        self.adopt(path, Some(expected_sha256))
    }

    /// Moves a complete file the caller made (a video's web copy) into the store under the
    /// SHA-256 of its bytes. Blocking: the file is read once, streamed, to hash it. `path`
    /// must be on the store's file system, e.g. in [`Self::scratch_dir`]; when the content
    /// is already stored, `path` is removed instead.
    pub fn put_file(&self, path: &Path) -> Result<StoredBlob, MediaError> {
        self.adopt(path, None)
    }

    /// A folder inside the store for making a file that [`Self::put_file`] then takes in;
    /// removed (with whatever is left in it) when dropped.
    pub fn scratch_dir(&self) -> Result<tempfile::TempDir, MediaError> {
        Ok(tempfile::Builder::new()
            .prefix("make-")
            .tempdir_in(self.root.join("tmp"))?)
    }

    fn adopt(&self, path: &Path, expected_sha256: Option<&str>) -> Result<StoredBlob, MediaError> {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(SNIFF_LEN);
        let mut size: u64 = 0;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = std::io::Read::read(&mut file, &mut buf)?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            hasher.update(chunk);
            let want = SNIFF_LEN.saturating_sub(head.len()).min(n);
            head.extend_from_slice(&chunk[..want]);
            size += n as u64;
        }
        let sha256 = hex::encode(hasher.finalize());
        if let Some(expected) = expected_sha256
            && sha256 != expected
        {
            return Err(MediaError::DigestMismatch {
                expected: expected.to_owned(),
                actual: sha256,
            });
        }
        file.sync_all()?;
        drop(file);
        let dest = self
            .path_of(&sha256)
            .expect("hex::encode of a SHA-256 is a valid digest");
        if dest.is_file() {
            std::fs::remove_file(path)?;
        } else {
            std::fs::create_dir_all(dest.parent().expect("blob paths have a parent"))?;
            std::fs::rename(path, &dest)?;
        }
        Ok(StoredBlob { sha256, size, head })
    }

    /// Where the blob with this digest lives (whether or not it is stored), or `None` when
    /// `sha256` is not 64 lower-case hex digits — so a digest can never name another path.
    pub fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| self.root.join(&sha256[..2]).join(&sha256[2..]))
    }

    /// Whether a blob with this digest is stored.
    pub fn exists(&self, sha256: &str) -> bool {
        self.path_of(sha256).is_some_and(|path| path.is_file())
    }

    /// Opens a stored blob for reading (for example to serve it with `ReaderStream`).
    pub async fn open_blob(&self, sha256: &str) -> Result<tokio::fs::File, MediaError> {
        let not_found = || MediaError::NotFound {
            sha256: sha256.to_owned(),
        };
        let path = self.path_of(sha256).ok_or_else(not_found)?;
        match tokio::fs::File::open(&path).await {
            Ok(file) => Ok(file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_found()),
            Err(e) => Err(e.into()),
        }
    }

    fn temp_file(&self) -> Result<NamedTempFile, MediaError> {
        Ok(tempfile::Builder::new()
            .prefix("upload-")
            .suffix(".part")
            .tempfile_in(self.root.join("tmp"))?)
    }

    /// Moves a complete temp file to its address, unless that content is already stored.
    fn commit(&self, temp: NamedTempFile, sha256: &str) -> Result<(), MediaError> {
        let path = self
            .path_of(sha256)
            .expect("hex::encode of a SHA-256 is a valid digest");
        if path.is_file() {
            // Same digest, same content: keep the stored copy; `temp` is deleted on drop.
            return Ok(());
        }
        std::fs::create_dir_all(path.parent().expect("blob paths have a parent"))?;
        // A concurrent upload of the same content may win the rename; both hold the same bytes.
        temp.persist(&path).map_err(|e| MediaError::Io(e.error))?;
        Ok(())
    }
}
