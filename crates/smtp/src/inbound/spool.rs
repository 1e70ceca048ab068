//! Message content while it arrives: the first [`IN_MEMORY`] bytes in memory, the rest in an
//! unnamed temporary file in the spool directory, so that a client that pauses in the middle of
//! a large message holds a few hundred KiB of the server's memory, not the message.
//!
//! The file has no name (`O_TMPFILE` where the system has it): it disappears when the
//! transaction ends, and after a crash there is nothing to clean up. Nothing in it was
//! acknowledged: the `250` comes only after the message is in the store.
//!
//! Writes go through a [`WRITE_BUFFER`] of their own into the page cache; a write of that size
//! does not wait for the disk, so it stays on the session's task. Reading the file back, which
//! can be tens of megabytes, runs on the blocking pool.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Bytes of a message kept in memory before the rest goes to a file.
pub const IN_MEMORY: usize = 128 * 1024;
/// The buffer in front of the file.
const WRITE_BUFFER: usize = 64 * 1024;

/// Content being collected.
#[derive(Debug)]
pub struct Spool {
    dir: Option<PathBuf>,
    mem: Vec<u8>,
    file: Option<BufWriter<File>>,
    len: u64,
    failed: Option<io::Error>,
}

/// Collected content, in memory or in its file.
#[derive(Debug)]
pub enum Content {
    Memory(Vec<u8>),
    File { file: File, len: u64 },
}

impl Spool {
    /// An empty spool whose file, when one is needed, goes into `dir` (the system's temporary
    /// directory when `None`).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Spool {
            dir,
            mem: Vec::new(),
            file: None,
            len: 0,
            failed: None,
        }
    }

    /// Bytes collected so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True before the first byte.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of memory the spool holds (its in-memory part and the file's buffer).
    pub fn held_in_memory(&self) -> usize {
        self.mem.capacity() + self.file.as_ref().map_or(0, |f| f.capacity())
    }

    /// Adds bytes at the end.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        self.len += bytes.len() as u64;
        if let Some(f) = self.file.as_mut() {
            if let Err(e) = f.write_all(bytes) {
                self.fail(e);
            }
            return;
        }
        if self.mem.len() + bytes.len() <= IN_MEMORY {
            self.mem.extend_from_slice(bytes);
            return;
        }
        match open(self.dir.as_deref()) {
            Ok(file) => {
                let mut f = BufWriter::with_capacity(WRITE_BUFFER, file);
                let written = f.write_all(&self.mem).and_then(|()| f.write_all(bytes));
                self.mem = Vec::new();
                self.file = Some(f);
                if let Err(e) = written {
                    self.fail(e);
                }
            }
            Err(e) => self.fail(e),
        }
    }

    /// Drops everything collected (the message is over its size limit and is only read
    /// through); what comes afterwards is not kept either.
    pub fn discard(&mut self) {
        self.mem = Vec::new();
        self.file = None;
        self.failed = Some(io::Error::other("content discarded"));
    }

    fn fail(&mut self, e: io::Error) {
        self.mem = Vec::new();
        self.file = None;
        self.failed = Some(e);
    }

    /// The content, or the error that stopped collecting it.
    pub fn finish(self) -> io::Result<Content> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        match self.file {
            None => Ok(Content::Memory(self.mem)),
            Some(f) => {
                let mut file = f.into_inner().map_err(|e| e.into_error())?;
                file.seek(SeekFrom::Start(0))?;
                Ok(Content::File {
                    file,
                    len: self.len,
                })
            }
        }
    }
}

fn open(dir: Option<&Path>) -> io::Result<File> {
    match dir {
        Some(d) => tempfile::tempfile_in(d),
        None => tempfile::tempfile(),
    }
}

impl Content {
    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Content::Memory(b) => b.len() as u64,
            Content::File { len, .. } => *len,
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, read from the file on the blocking pool.
    pub async fn load(self) -> io::Result<Vec<u8>> {
        match self {
            Content::Memory(b) => Ok(b),
            file => tokio::task::spawn_blocking(move || file.load_blocking())
                .await
                .map_err(io::Error::other)?,
        }
    }

    /// The bytes, read from the file on this thread.
    pub fn load_blocking(self) -> io::Result<Vec<u8>> {
        match self {
            Content::Memory(b) => Ok(b),
            Content::File { mut file, len } => {
                let len = usize::try_from(len).map_err(io::Error::other)?;
                let mut out = Vec::with_capacity(len);
                file.read_to_end(&mut out)?;
                if out.len() != len {
                    return Err(io::Error::other(format!(
                        "spool file holds {} bytes, {len} were written",
                        out.len()
                    )));
                }
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_content_stays_in_memory() {
        let mut s = Spool::new(None);
        s.push(b"hello ");
        s.push(b"world");
        let c = s.finish().expect("finish");
        assert!(matches!(c, Content::Memory(_)));
        assert_eq!(c.load_blocking().expect("load"), b"hello world");
    }

    #[test]
    fn large_content_goes_to_a_file_and_comes_back_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let mut s = Spool::new(Some(dir.path().to_path_buf()));
        let mut expected = Vec::new();
        for i in 0..5000u32 {
            let line = format!("line {i} {}\r\n", "x".repeat((i % 97) as usize));
            s.push(line.as_bytes());
            expected.extend_from_slice(line.as_bytes());
        }
        assert!(s.mem.is_empty() && s.file.is_some());
        assert!(s.held_in_memory() <= WRITE_BUFFER);
        assert_eq!(s.len(), expected.len() as u64);
        let c = s.finish().expect("finish");
        assert!(matches!(c, Content::File { .. }));
        assert_eq!(c.len(), expected.len() as u64);
        assert_eq!(c.load_blocking().expect("load"), expected);
        // The file had no name: the directory stays empty.
        assert_eq!(std::fs::read_dir(dir.path()).expect("read").count(), 0);
    }

    #[test]
    fn an_unusable_directory_is_an_error_not_a_loss() {
        let mut s = Spool::new(Some("/nonexistent/spool".into()));
        s.push(&vec![b'x'; IN_MEMORY + 1]);
        assert!(s.finish().is_err());
    }
}
