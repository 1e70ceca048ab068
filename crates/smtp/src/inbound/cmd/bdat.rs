//! BDAT (RFC 3030 §2): `BDAT <size> [LAST]`; the chunk follows the command line, with no
//! dot-stuffing.

use super::command::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bdat {
    pub size: u64,
    pub last: bool,
}

pub fn parse(rest: &str) -> Result<Bdat, ParseError> {
    let mut it = rest.split(' ').filter(|s| !s.is_empty());
    let size = it
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or(ParseError::Syntax("BDAT needs a chunk size"))?;
    let last = match it.next() {
        None => false,
        Some(s) if s.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return Err(ParseError::Syntax("expected LAST")),
    };
    if it.next().is_some() {
        return Err(ParseError::Syntax("too many arguments"));
    }
    Ok(Bdat { size, last })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks() {
        assert_eq!(
            parse("10").unwrap(),
            Bdat {
                size: 10,
                last: false
            }
        );
        assert_eq!(
            parse("0 last").unwrap(),
            Bdat {
                size: 0,
                last: true
            }
        );
        for bad in ["", "x", "-1", "10 FIRST", "10 LAST x"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
