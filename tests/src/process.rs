//! The SIGKILL harness: a child process (the `marque` binary, or a test binary run again as a
//! writer) whose standard output is read line by line on a thread, so that the test can wait
//! for a line with a deadline, kill the child with SIGKILL at a moment of its choosing, and
//! still read every line the child printed before it died.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// A running child and the lines of its standard output.
pub struct Watched {
    pub child: Child,
    lines: Receiver<String>,
}

impl Watched {
    /// Spawns `cmd` with its standard output piped to the test.
    pub fn spawn(cmd: &mut Command) -> std::io::Result<Watched> {
        let mut child = cmd.stdout(Stdio::piped()).spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Watched { child, lines })
    }

    /// The next line; `None` at the end of the output or when `timeout` passed first.
    pub fn line(&self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    /// SIGKILL: no shutdown, no flush; only what was made durable remains. Waits for the exit.
    pub fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(|_| ())
    }

    /// Every line not read yet, to the end of the output (after [`Watched::kill`], the lines
    /// printed before the kill).
    pub fn rest(self) -> Vec<String> {
        self.lines.iter().collect()
    }
}
