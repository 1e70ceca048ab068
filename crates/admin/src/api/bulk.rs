//! `POST /mailboxes/bulk`: many mailboxes from one JSON body or one CSV upload (RFC 4180,
//! header line `address,password,quota_mb,tier,postmaster`), with a result per row. Rows are
//! created one by one, each through the core like a single creation; a failed row does not
//! stop the others.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use marque_core::{NewMailbox, Tier};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, op, types};
use super::{Route, route};
use crate::extract::Caller;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

/// Most rows in one request.
pub const MAX_ROWS: usize = 10_000;

pub(crate) fn routes() -> Vec<Route> {
    // A larger body than elsewhere: ten thousand rows.
    vec![route(
        "/api/v1/mailboxes/bulk",
        &["post"],
        post(bulk).layer(DefaultBodyLimit::max(crate::state::MAX_UPLOAD)),
    )]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[op(
    "post",
    "/api/v1/mailboxes/bulk",
    "Create many mailboxes (JSON or CSV), a result per row",
    Some("BulkMailboxes"),
    &[],
)];

/// The request bodies of this file, in `components/schemas`.
pub fn schemas() -> Value {
    let s = types::string();
    let b = types::boolean();
    let tier = types::tier();
    let mb1 = types::mib();
    json!({
        "BulkMailboxes": types::object(json!({"mailboxes": {"type": "array", "maxItems": 10000, "items": types::object(json!({
            "address": s, "password": s, "quota_mb": mb1, "tier": tier, "postmaster": b}), &["address", "password"])}}),
            &["mailboxes"]),
    })
}

/// One row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub address: String,
    pub password: String,
    pub quota_mb: Option<u64>,
    pub tier: Option<Tier>,
    #[serde(default)]
    pub postmaster: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonBody {
    mailboxes: Vec<Row>,
}

/// Splits CSV text into records of fields (RFC 4180 §2: quoted fields may hold commas, quotes
/// doubled, and line breaks).
pub fn csv_records(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                any = false;
            }
            c => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    if any {
        record.push(field);
        records.push(record);
    }
    Ok(records
        .into_iter()
        .filter(|r| !(r.len() == 1 && r[0].trim().is_empty()))
        .collect())
}

/// Rows from CSV with a header line naming the columns.
pub fn csv_rows(text: &str) -> Result<Vec<Row>, String> {
    let mut records = csv_records(text)?.into_iter();
    let header: Vec<String> = records
        .next()
        .ok_or("the CSV is empty")?
        .into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for h in &header {
        if !["address", "password", "quota_mb", "tier", "postmaster"].contains(&h.as_str()) {
            return Err(format!("unknown column {h:?}"));
        }
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(addr), Some(pw)) = (col("address"), col("password")) else {
        return Err("the columns address and password are required".into());
    };
    let mut rows = Vec::new();
    for (n, r) in records.enumerate() {
        let line = n + 2;
        if r.len() != header.len() {
            return Err(format!(
                "line {line}: {} fields, expected {}",
                r.len(),
                header.len()
            ));
        }
        let get = |i: Option<usize>| i.map(|i| r[i].trim()).filter(|v| !v.is_empty());
        let quota_mb = get(col("quota_mb"))
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("line {line}: quota_mb is not a number"))
            })
            .transpose()?;
        let tier = get(col("tier"))
            .map(|v| {
                serde_json::from_value(json!(v.to_ascii_uppercase()))
                    .map_err(|_| format!("line {line}: tier is LIGHT, STANDARD or PREMIUM"))
            })
            .transpose()?;
        let postmaster = match get(col("postmaster"))
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("false" | "0" | "no") => false,
            Some("true" | "1" | "yes") => true,
            Some(_) => return Err(format!("line {line}: postmaster is true or false")),
        };
        rows.push(Row {
            address: r[addr].trim().to_string(),
            password: r[pw].clone(),
            quota_mb,
            tier,
            postmaster,
        });
    }
    Ok(rows)
}

async fn bulk(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let rows = if ct.starts_with("application/json") {
        let b: JsonBody = serde_json::from_slice(&body).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                Problem::bad_request(e.to_string())
            } else {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
        })?;
        b.mailboxes
    } else if ct.starts_with("text/csv") {
        let text =
            std::str::from_utf8(&body).map_err(|_| Problem::bad_request("the CSV is not UTF-8"))?;
        csv_rows(text).map_err(|e| Problem::invalid("csv", e))?
    } else {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send application/json or text/csv",
        ));
    };
    if rows.len() > MAX_ROWS {
        return Err(Problem::invalid(
            "mailboxes",
            format!("at most {MAX_ROWS} rows"),
        ));
    }
    let mut results = Vec::with_capacity(rows.len());
    let mut created = 0;
    for (i, r) in rows.into_iter().enumerate() {
        let address = r.address.clone();
        let new = NewMailbox {
            address: r.address,
            password: r.password,
            quota_mb: r.quota_mb,
            tier: r.tier,
            postmaster: r.postmaster,
        };
        match st.core.create_mailbox(&actor, new).await {
            Ok(m) => {
                created += 1;
                results.push(json!({"row": i + 1, "address": m.address, "status": 201}));
            }
            Err(e) => {
                let p = Problem::from(e);
                results.push(json!({"row": i + 1, "address": address,
                    "status": p.status.as_u16(), "problem": p.body()}));
            }
        }
    }
    let failed = results.len() - created;
    Ok(
        axum::Json(json!({"created": created, "failed": failed, "results": results}))
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_quotes_and_crlf() {
        let text = "address,password,quota_mb,tier,postmaster\r\n\
                    a@x.example,\"pa,ss \"\"word\"\"\",100,light,true\r\n\
                    b@x.example,secret secret,,,\r\n";
        let rows = csv_rows(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].password, "pa,ss \"word\"");
        assert_eq!(rows[0].tier, Some(Tier::Light));
        assert!(rows[0].postmaster);
        assert_eq!(rows[1].quota_mb, None);
        assert!(csv_rows("address,role\nx,y\n").is_err());
        assert!(csv_rows("address,password\n\"open,x\n").is_err());
        assert!(csv_rows("address,password\na\n").is_err());
    }
}
