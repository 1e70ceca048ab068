//! COMPRESS=DEFLATE (RFC 4978): after the command, both directions are raw DEFLATE streams
//! (RFC 1951). Input is inflated in bounded steps, so a small compressed packet cannot make
//! the session reserve more than one step's worth at a time.

use std::io;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

/// Most bytes one inflate step produces.
pub const STEP: usize = 64 * 1024;

/// The two DEFLATE streams of a session.
#[derive(Debug)]
pub struct Deflate {
    comp: Compress,
    decomp: Decompress,
    /// Compressed input not inflated yet.
    pending: Vec<u8>,
}

impl Default for Deflate {
    fn default() -> Self {
        Deflate {
            comp: Compress::new(Compression::default(), false),
            decomp: Decompress::new(false),
            pending: Vec::new(),
        }
    }
}

impl Deflate {
    /// Compresses `data` and flushes (`Z_SYNC_FLUSH`), so the client can read it all now.
    pub fn compress(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut consumed = 0usize;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let before = self.comp.total_in();
            self.comp
                .compress_vec(&data[consumed..], &mut out, FlushCompress::Sync)
                .map_err(io::Error::other)?;
            consumed += usize::try_from(self.comp.total_in() - before).map_err(io::Error::other)?;
            if consumed >= data.len() && out.len() < out.capacity() {
                return Ok(out);
            }
        }
    }

    /// Keeps compressed input for [`Deflate::inflate`].
    pub fn push(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
    }

    /// True if compressed input is waiting.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Inflates up to [`STEP`] bytes of the pending input into `out`; returns how many.
    pub fn inflate(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let mut tmp = vec![0u8; STEP];
        let (in0, out0) = (self.decomp.total_in(), self.decomp.total_out());
        self.decomp
            .decompress(&self.pending, &mut tmp, FlushDecompress::None)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let used = usize::try_from(self.decomp.total_in() - in0).map_err(io::Error::other)?;
        let made = usize::try_from(self.decomp.total_out() - out0).map_err(io::Error::other)?;
        self.pending.drain(..used);
        out.extend_from_slice(&tmp[..made]);
        Ok(made)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_bounded_steps() {
        let mut a = Deflate::default();
        let mut b = Deflate::default();
        let big = vec![b'x'; 3 * STEP];
        let z = a.compress(&big).unwrap();
        assert!(z.len() < 10_000);
        b.push(&z);
        let mut out = Vec::new();
        let mut steps = 0;
        while b.has_pending() || out.len() < big.len() {
            let n = b.inflate(&mut out).unwrap();
            assert!(n <= STEP);
            steps += 1;
            assert!(steps < 100);
        }
        assert_eq!(out, big);
    }
}
