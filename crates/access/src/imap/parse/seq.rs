//! Sequence sets (RFC 3501 §9 `sequence-set`): ranges of message numbers or UIDs, with `*`
//! for the largest one in use, or `$` for the result a SEARCH saved (RFC 5182 §3).

use super::{PResult, ParseError, Parser};

/// One end of a range: a number or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqNum {
    Num(u32),
    Star,
}

/// A sequence set as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeqSet {
    /// Ranges of numbers.
    Ranges(Vec<(SeqNum, SeqNum)>),
    /// `$`: the messages the last `SEARCH RETURN (SAVE)` found (RFC 5182 §2.2). Which
    /// messages those are is the selected mailbox's business (`View::resolve`).
    Saved,
}

/// Most ranges one set may hold.
const MAX_RANGES: usize = 10_000;

impl SeqSet {
    /// Parses a sequence set.
    pub fn parse(p: &mut Parser<'_>) -> PResult<SeqSet> {
        // RFC 5182 §3: `$` stands alone, it is not combined with ranges.
        if p.eat(b'$') {
            return Ok(SeqSet::Saved);
        }
        let mut out = Vec::new();
        loop {
            let a = num(p)?;
            let b = if p.eat(b':') { num(p)? } else { a };
            out.push((a, b));
            if out.len() > MAX_RANGES {
                return Err(ParseError("sequence set too long".into()));
            }
            if !p.eat(b',') {
                return Ok(SeqSet::Ranges(out));
            }
        }
    }

    /// True if `n` is in the ranges, `star` being the value of `*`. Always false for `$`,
    /// which names messages rather than numbers: resolve it through the selected mailbox.
    pub fn contains(&self, n: u32, star: u32) -> bool {
        let SeqSet::Ranges(ranges) = self else {
            return false;
        };
        ranges.iter().any(|&(a, b)| {
            let (a, b) = (resolve(a, star), resolve(b, star));
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            lo <= n && n <= hi
        })
    }

    /// The members of the set found in `sorted` (ascending), `star` being the value of `*`.
    pub fn select(&self, sorted: &[u32], star: u32) -> Vec<u32> {
        sorted
            .iter()
            .copied()
            .filter(|&n| self.contains(n, star))
            .collect()
    }
}

fn resolve(n: SeqNum, star: u32) -> u32 {
    match n {
        SeqNum::Num(n) => n,
        SeqNum::Star => star,
    }
}

fn num(p: &mut Parser<'_>) -> PResult<SeqNum> {
    if p.eat(b'*') {
        return Ok(SeqNum::Star);
    }
    match p.number()? {
        0 => Err(ParseError("0 is not a valid message number".into())),
        n => Ok(SeqNum::Num(n)),
    }
}

/// Writes a compact set (`1:3,7`) of ascending numbers.
pub fn compact(nums: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < nums.len() {
        let start = nums[i];
        let mut end = start;
        while i + 1 < nums.len() && nums[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = nums[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> PResult<SeqSet> {
        SeqSet::parse(&mut Parser::new(s.as_bytes()))
    }

    #[test]
    fn ranges_and_star() {
        let s = parse("1:3,7,9:*").unwrap();
        assert_eq!(
            s.select(&[1, 2, 3, 4, 7, 8, 9, 10], 10),
            vec![1, 2, 3, 7, 9, 10]
        );
        let r = parse("*:4").unwrap();
        assert_eq!(r.select(&[1, 4, 5], 5), vec![4, 5]);
        assert!(parse("*").unwrap().contains(12, 12));
    }

    #[test]
    fn saved_result() {
        assert_eq!(parse("$").unwrap(), SeqSet::Saved);
        assert!(!SeqSet::Saved.contains(1, 1));
        // `$` is not part of a range or a list.
        let mut p = Parser::new(b"$,1");
        assert_eq!(SeqSet::parse(&mut p).unwrap(), SeqSet::Saved);
        assert!(p.end().is_err());
        assert!(parse("1:$").is_err());
    }

    #[test]
    fn malformed() {
        assert!(parse("0").is_err());
        assert!(parse(",1").is_err());
        assert!(parse("a").is_err());
    }

    #[test]
    fn compacts() {
        assert_eq!(compact(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(compact(&[]), "");
    }
}
