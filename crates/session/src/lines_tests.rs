//! The line reader against scripted reads: lines and CRLF split across reads, overlong lines
//! over many reads, counted reads across buffer boundaries, end of stream part way, limits at
//! their exact boundary, cancelled reads, and the pure buffer's bounds.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::*;
use crate::shutdown::Shutdown;

/// A stream that returns its reads exactly as scripted (one scripted piece per read, cut
/// further only if the reader's room is smaller), then the end of the stream; or, with
/// `stall`, waits forever. It keeps what is written to it.
#[derive(Debug, Default)]
struct Script {
    reads: VecDeque<Vec<u8>>,
    stall: bool,
    written: Vec<u8>,
}

fn script(reads: &[&[u8]]) -> LineIo<Script> {
    let stream = Script {
        reads: reads.iter().map(|r| r.to_vec()).collect(),
        ..Script::default()
    };
    LineIo::over(stream, Shutdown::new().signal())
}

impl AsyncRead for Script {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let Some(mut piece) = me.reads.pop_front() else {
            return if me.stall {
                Poll::Pending
            } else {
                Poll::Ready(Ok(()))
            };
        };
        let n = piece.len().min(buf.remaining());
        buf.put_slice(&piece[..n]);
        if n < piece.len() {
            me.reads.push_front(piece.split_off(n));
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Script {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().written.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn complete(s: &str) -> Line {
    Line::Complete(s.as_bytes().to_vec())
}

#[tokio::test]
async fn lines_split_across_reads_come_out_whole() {
    let mut io = script(&[b"HE", b"LO x", b"\r\nNO", b"OP\r\nQUIT\n"]);
    assert_eq!(io.read_line(512).await.unwrap(), complete("HELO x\r\n"));
    assert_eq!(io.read_line(512).await.unwrap(), complete("NOOP\r\n"));
    assert_eq!(io.read_line(512).await.unwrap(), complete("QUIT\n"));
    assert_eq!(io.read_line(512).await.unwrap(), Line::Eof);
}

#[tokio::test]
async fn a_crlf_split_across_reads_is_one_line_end() {
    let mut io = script(&[b"NOOP\r", b"\nRSET\r", b"\n"]);
    assert_eq!(io.read_line(512).await.unwrap(), complete("NOOP\r\n"));
    assert_eq!(io.read_line(512).await.unwrap(), complete("RSET\r\n"));
    // An overlong line whose CR ends one read and whose LF starts the next ended in CRLF.
    let mut io = script(&[b"0123456789", b"abc\r", b"\nNEXT\r\n"]);
    assert_eq!(io.read_line(8).await.unwrap(), Line::TooLong { crlf: true });
    assert_eq!(io.read_line(8).await.unwrap(), complete("NEXT\r\n"));
    let mut io = script(&[b"0123456789", b"\nNEXT\r\n"]);
    assert_eq!(
        io.read_line(8).await.unwrap(),
        Line::TooLong { crlf: false }
    );
    assert_eq!(io.read_line(8).await.unwrap(), complete("NEXT\r\n"));
}

#[tokio::test]
async fn an_overlong_line_over_many_reads_is_dropped_with_bounded_memory() {
    let piece = vec![b'x'; 100];
    let mut reads: Vec<&[u8]> = vec![&piece; 1000];
    reads.push(b"\r\nQUIT\r\n");
    let mut io = script(&reads);
    // Reads one by one, checking what is held while the line goes on.
    for _ in 0..1000 {
        assert!(io.take_line(64).is_none());
        assert!(io.buffered().len() <= 100, "{} held", io.buffered().len());
        io.fill().await.unwrap();
    }
    assert_eq!(
        io.read_line(64).await.unwrap(),
        Line::TooLong { crlf: true }
    );
    assert_eq!(io.read_line(64).await.unwrap(), complete("QUIT\r\n"));
    assert_eq!(io.read_line(64).await.unwrap(), Line::Eof);
}

#[tokio::test]
async fn exact_reads_span_reads_and_buffer_boundaries() {
    let mut io = script(&[b"BDAT 5\r\nab", b"c", b"de", b"NOOP\r\n"]);
    assert_eq!(io.read_line(512).await.unwrap(), complete("BDAT 5\r\n"));
    let mut pieces = Vec::new();
    assert!(io.read_exact(5, |p| pieces.push(p.to_vec())).await.unwrap());
    assert_eq!(pieces, [b"ab".to_vec(), b"c".to_vec(), b"de".to_vec()]);
    assert_eq!(io.read_line(512).await.unwrap(), complete("NOOP\r\n"));

    // Far more than one buffer, in reads that do not line up with it.
    let body: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let mut reads: Vec<Vec<u8>> = vec![b"{50000}\r\n".to_vec()];
    reads.extend(body.chunks(7_001).map(<[u8]>::to_vec));
    reads.push(b")\r\n".to_vec());
    let refs: Vec<&[u8]> = reads.iter().map(Vec::as_slice).collect();
    let mut io = script(&refs);
    assert_eq!(io.read_line(512).await.unwrap(), complete("{50000}\r\n"));
    let mut got = Vec::new();
    assert!(
        io.read_exact(50_000, |p| got.extend_from_slice(p))
            .await
            .unwrap()
    );
    assert_eq!(got, body);
    assert_eq!(io.read_line(512).await.unwrap(), complete(")\r\n"));

    // Zero bytes read nothing.
    let mut io = script(&[b"X\r\n"]);
    assert!(io.read_exact(0, |_| panic!("no bytes")).await.unwrap());
    assert_eq!(io.read_line(512).await.unwrap(), complete("X\r\n"));
}

#[tokio::test]
async fn the_end_of_the_stream_part_way() {
    let mut io = script(&[b"MAIL FROM:<a@b.c>\r\nRCPT TO"]);
    assert_eq!(
        io.read_line(512).await.unwrap(),
        complete("MAIL FROM:<a@b.c>\r\n")
    );
    assert_eq!(io.read_line(512).await.unwrap(), Line::Eof);
    assert_eq!(io.read_line(512).await.unwrap(), Line::Eof);
    // Inside an overlong line.
    let mut io = script(&[b"0123456789abcdef"]);
    assert_eq!(io.read_line(8).await.unwrap(), Line::Eof);
    // Inside a counted read.
    let mut io = script(&[b"abc"]);
    let mut got = Vec::new();
    assert!(
        !io.read_exact(5, |p| got.extend_from_slice(p))
            .await
            .unwrap()
    );
    assert_eq!(got, b"abc");
}

#[tokio::test]
async fn the_limit_counts_the_terminator_exactly() {
    // Six bytes with CRLF is the longest line of a limit of six, however it arrives.
    for reads in [
        &[&b"ABCD\r\n"[..]][..],
        &[b"ABCD\r", b"\n"],
        &[b"ABC", b"D", b"\r\n"],
    ] {
        let mut io = script(reads);
        assert_eq!(
            io.read_line(6).await.unwrap(),
            complete("ABCD\r\n"),
            "{reads:?}"
        );
    }
    let mut io = script(&[b"ABCDE\n"]);
    assert_eq!(io.read_line(6).await.unwrap(), complete("ABCDE\n"));
    // One byte more is too long, whether the partial line reached the limit or not.
    for reads in [
        &[&b"ABCDE\r\n"[..]][..],
        &[b"ABCDE\r", b"\n"],
        &[b"ABCDEF", b"\n"],
    ] {
        let mut io = script(reads);
        let crlf = reads.concat().ends_with(b"\r\n");
        assert_eq!(
            io.read_line(6).await.unwrap(),
            Line::TooLong { crlf },
            "{reads:?}"
        );
    }
    // A partial line of seven bytes is dropped before its end arrives.
    let mut io = script(&[b"ABCDEFG"]);
    io.fill().await.unwrap();
    assert!(io.take_line(6).is_none());
    assert!(io.buffered().is_empty());
}

#[tokio::test]
async fn pipelined_input_is_pending_until_used() {
    let mut io = script(&[b"A\r\nB\r\nC"]);
    assert_eq!(io.read_line(512).await.unwrap(), complete("A\r\n"));
    assert!(io.pending() && io.has_line());
    assert_eq!(io.read_line(512).await.unwrap(), complete("B\r\n"));
    assert!(io.pending());
    assert!(!io.has_line());
    io.consume(1);
    assert!(!io.pending());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_read_loses_nothing_but_the_wait() {
    let (client, server) = tokio::io::duplex(1024);
    let (mut client, shutdown) = (client, Shutdown::new());
    let mut io = LineIo::over(server, shutdown.signal());
    let idle = Duration::from_secs(5);
    client.write_all(b"HEL").await.unwrap();
    assert_eq!(io.read_line_within(512, idle).await.unwrap(), Timed::Idle);
    client.write_all(b"O\r\n").await.unwrap();
    assert_eq!(
        io.read_line_within(512, idle).await.unwrap(),
        Timed::Ready(complete("HELO\r\n"))
    );
    // A timeout inside an overlong line: the rest is still dropped, not read as a line.
    client.write_all(&[b'x'; 20]).await.unwrap();
    assert_eq!(io.read_line_within(8, idle).await.unwrap(), Timed::Idle);
    client.write_all(b"RCPT\r\nOK\r\n").await.unwrap();
    assert_eq!(
        io.read_line_within(8, idle).await.unwrap(),
        Timed::Ready(Line::TooLong { crlf: true })
    );
    assert_eq!(io.read_line(8).await.unwrap(), complete("OK\r\n"));
    // Shutdown wakes a waiting read.
    shutdown.trigger();
    assert_eq!(io.read_line_within(8, idle).await.unwrap(), Timed::Shutdown);
    assert_eq!(io.fill_within(idle).await.unwrap(), Timed::Shutdown);
}

#[tokio::test(start_paused = true)]
async fn a_client_that_does_not_read_cannot_hold_a_write() {
    let (_client, server) = tokio::io::duplex(64);
    let mut io = LineIo::over(server, Shutdown::new().signal());
    io.queue(&[b'x'; 1024]);
    let err = io.flush_within(Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    assert_eq!(io.queued(), 0);
}

#[tokio::test]
async fn answers_are_queued_and_sent_together() {
    let mut io = script(&[]);
    io.queue(b"250 one\r\n");
    let mut more = b"250 two\r\n".to_vec();
    io.queue_all(&mut more);
    assert!(more.is_empty());
    assert_eq!(io.queued(), 18);
    assert!(io.stream().written.is_empty());
    io.flush().await.unwrap();
    assert_eq!(io.stream().written, b"250 one\r\n250 two\r\n");
    assert_eq!(io.queued(), 0);
}

/// Flips the case of ASCII letters both ways: enough to see what went through it.
#[derive(Debug, Default)]
struct Flip {
    pending: Vec<u8>,
}

impl Codec for Flip {
    fn encode(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        Ok(data.iter().map(|b| b ^ 0x20).collect())
    }
    fn push(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
    }
    fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
    fn decode(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        // Two bytes a step, to see steps joined into lines.
        let n = self.pending.len().min(2);
        out.extend(self.pending.drain(..n).map(|b| b ^ 0x20));
        Ok(n)
    }
}

#[tokio::test]
async fn a_codec_takes_what_is_buffered_and_everything_after() {
    // `-` and `*` flip to CR and LF; letters change case.
    let mut io = script(&[b"COMPRESS\r\nnoop-*", b"rset-*"]);
    assert_eq!(io.read_line(512).await.unwrap(), complete("COMPRESS\r\n"));
    io.set_codec(Box::new(Flip::default()));
    assert!(io.has_codec());
    assert_eq!(io.read_line(512).await.unwrap(), complete("NOOP\r\n"));
    assert_eq!(io.read_line(512).await.unwrap(), complete("RSET\r\n"));
    io.queue(b"ok");
    io.flush().await.unwrap();
    assert_eq!(io.stream().written, b"OK");
}

#[test]
fn the_buffer_cuts_pipelined_commands_in_order() {
    let mut r = LineBuffer::new();
    r.push(b"STAT\r\nLIST 1\r\nUID", 1024);
    assert_eq!(r.take_line(1024), Some(complete("STAT\r\n")));
    assert_eq!(r.take_line(1024), Some(complete("LIST 1\r\n")));
    assert_eq!(r.take_line(1024), None);
    assert!(r.pending());
    r.push(b"L\nQUIT\r\n", 1024);
    assert_eq!(r.take_line(1024), Some(complete("UIDL\n")));
    assert_eq!(r.take_line(1024), Some(complete("QUIT\r\n")));
    assert_eq!(r.take_line(1024), None);
    assert!(!r.pending());
}

#[test]
fn the_buffer_skips_an_overlong_line_without_holding_it() {
    let mut r = LineBuffer::new();
    r.push(&[b'A'; 10], 16);
    r.push(&[b'A'; 10], 16);
    assert_eq!(r.take_line(16), None);
    assert!(r.buffered().len() <= 16);
    for _ in 0..1000 {
        r.push(&[b'B'; 100], 16);
        assert!(r.buffered().len() <= 100);
    }
    r.push(b"BB\r\nNOOP\r\n", 16);
    assert_eq!(r.take_line(16), Some(Line::TooLong { crlf: true }));
    assert_eq!(r.take_line(16), Some(complete("NOOP\r\n")));
}

#[test]
fn the_buffer_refuses_a_complete_line_over_the_limit() {
    let mut r = LineBuffer::new();
    r.push(b"123456789\r\nSTAT\r\n", 8);
    assert_eq!(r.take_line(8), Some(Line::TooLong { crlf: true }));
    assert_eq!(r.take_line(8), Some(complete("STAT\r\n")));
}

#[test]
fn clear_drops_injected_bytes() {
    let mut r = LineBuffer::new();
    r.push(b"STLS\r\nUSER evil\r\n", 1024);
    assert_eq!(r.take_line(1024), Some(complete("STLS\r\n")));
    r.clear();
    assert_eq!(r.take_line(1024), None);
    assert!(!r.pending());
}

#[test]
fn lines_lose_their_ends() {
    assert_eq!(strip_eol(b"NOOP\r\n"), b"NOOP");
    assert_eq!(strip_eol(b"NOOP\n"), b"NOOP");
    assert_eq!(strip_eol(b"NOOP\r"), b"NOOP");
    assert_eq!(strip_eol(b"NOOP"), b"NOOP");
}
