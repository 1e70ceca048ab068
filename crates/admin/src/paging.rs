//! Cursor pagination: `?limit=&cursor=` in, `{"items": [...], "next": "..."}` out. Cursors are
//! opaque to clients (hex of the last key returned).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::problem::{ApiResult, Problem};

/// Default page size.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page size.
pub const MAX_LIMIT: usize = 1000;

/// `?domain=` of the listings that belong to one domain (mailboxes, aliases, lists).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DomainQuery {
    pub domain: Option<String>,
}

impl DomainQuery {
    /// The domain, which these listings require.
    pub fn required(&self) -> ApiResult<&str> {
        self.domain
            .as_deref()
            .ok_or_else(|| Problem::invalid("domain", "name the domain: ?domain="))
    }
}

/// The paging part of a query string.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageQuery {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page size, checked.
    pub fn limit(&self) -> ApiResult<usize> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(Problem::invalid(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    /// The decoded cursor, if any.
    pub fn cursor(&self) -> ApiResult<Option<String>> {
        self.cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(decode)
            .transpose()
    }
}

/// Encodes a key as a cursor.
pub fn encode(key: &str) -> String {
    hex::encode(key.as_bytes())
}

/// Decodes a cursor.
pub fn decode(cursor: &str) -> ApiResult<String> {
    hex::decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| Problem::invalid("cursor", "not a cursor this API gave out"))
}

/// One page of `items` ordered by `key`: those after the cursor, at most `limit` of them.
pub fn page<T: Serialize>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> String,
    q: &PageQuery,
) -> ApiResult<Value> {
    let limit = q.limit()?;
    let after = q.cursor()?;
    items.sort_by_key(|a| key(a));
    let mut rest = items
        .into_iter()
        .filter(|i| after.as_ref().is_none_or(|a| key(i) > *a))
        .peekable();
    let mut out = Vec::new();
    let mut last = None;
    while out.len() < limit {
        let Some(i) = rest.next() else { break };
        last = Some(key(&i));
        out.push(i);
    }
    let next = match (rest.peek(), last) {
        (Some(_), Some(k)) => Some(encode(&k)),
        _ => None,
    };
    Ok(json!({ "items": out, "next": next }))
}

/// A sortable key for a numeric id (zero-padded so that text order is number order).
pub fn num(n: u64) -> String {
    format!("{n:020}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_each_other() {
        let items: Vec<u64> = (1..=5).collect();
        let mut q = PageQuery {
            limit: Some(2),
            cursor: None,
        };
        let mut seen = Vec::new();
        loop {
            let p = page(items.clone(), |n| num(*n), &q).unwrap();
            for v in p["items"].as_array().unwrap() {
                seen.push(v.as_u64().unwrap());
            }
            match p["next"].as_str() {
                Some(c) => q.cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(seen, items);
        q.limit = Some(0);
        assert!(q.limit().is_err());
        assert!(decode("zz").is_err());
    }
}
