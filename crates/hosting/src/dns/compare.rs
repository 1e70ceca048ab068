//! Whether what DNS holds for a name is what the platform expects, per kind of record:
//!
//! - MX, CNAME, SRV: the exact target (case-insensitive, trailing dot ignored). A name that
//!   CNAMEs through a chain ends at the platform host; one that has A/AAAA records equal to the
//!   platform host's addresses instead of a CNAME is as good.
//! - SPF: exactly one `v=spf1` TXT record (RFC 7208 §4.5: two are a permerror), and it holds
//!   every mechanism that authorizes the platform.
//! - DKIM: a key record whose `p=` is this domain's key.
//! - DMARC: exactly one `v=DMARC1` record (RFC 7489 §6.6.3) with a valid `p=`; any policy is
//!   accepted, `p=none` with a warning.
//! - MTA-STS: exactly one `v=STSv1` record (RFC 8461 §3.1) with the platform's policy id.
//!
//! Pure functions over the answers [`super::resolve`] gathered, so every rule is unit-tested
//! without a network.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::expected::{Expected, Purpose};

/// The state of one expected record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Published as expected.
    Ok,
    /// The name has no such record (NXDOMAIN or NODATA).
    Missing,
    /// Something else is published; `found` and `detail` say what and why it is wrong.
    Wrong,
    /// DNS did not answer (SERVFAIL, timeout, refused).
    Error,
    /// Not checked yet.
    Pending,
}

/// What one DNS question got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    /// Records of the type asked for.
    Found(Vec<T>),
    /// NXDOMAIN or NODATA.
    Missing,
    /// SERVFAIL, timeout or another failure, with its description.
    Failed(String),
}

/// An SRV record's data (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

/// What a name that should point at the platform host holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CnameAnswer {
    /// The CNAME targets followed from the name, in order (empty: the name has no CNAME).
    pub chain: Result<Vec<String>, String>,
    /// The name's addresses, asked only when the chain does not reach the platform host.
    pub addrs: Lookup<IpAddr>,
    /// The platform host's own addresses.
    pub platform: Vec<IpAddr>,
}

/// Everything DNS answered about one expected record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Mx(Lookup<(u16, String)>),
    /// Each record's character-strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    Txt(Lookup<String>),
    Srv(Lookup<Srv>),
    Cname(CnameAnswer),
}

/// The judgement of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    /// What DNS holds there, as zone-file values.
    pub found: Vec<String>,
    /// Why it is wrong, or what failed.
    pub detail: Option<String>,
    /// Acceptable but worth changing (DMARC `p=none`).
    pub warning: Option<String>,
}

impl Verdict {
    fn new(status: Status, found: Vec<String>, detail: Option<String>) -> Verdict {
        Verdict {
            status,
            found,
            detail,
            warning: None,
        }
    }
    fn ok(found: Vec<String>) -> Verdict {
        Verdict::new(Status::Ok, found, None)
    }
    fn wrong(found: Vec<String>, why: impl Into<String>) -> Verdict {
        Verdict::new(Status::Wrong, found, Some(why.into()))
    }
    fn missing() -> Verdict {
        Verdict::new(Status::Missing, Vec::new(), Some("no such record".into()))
    }
    fn error(why: &str) -> Verdict {
        Verdict::new(Status::Error, Vec::new(), Some(why.to_string()))
    }
}

/// A host name for comparison: lowercase, no trailing dot.
pub fn host(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Judges what DNS answered for `expected`.
pub fn judge(expected: &Expected, answer: &Answer) -> Verdict {
    match (expected.purpose, answer) {
        (Purpose::Mx, Answer::Mx(l)) => mx(expected, l),
        (Purpose::Cname, Answer::Cname(c)) => cname(expected, c),
        (Purpose::Srv, Answer::Srv(l)) => srv(expected, l),
        (Purpose::Spf, Answer::Txt(l)) => txt(l, |all| spf(expected, all)),
        (Purpose::Dkim, Answer::Txt(l)) => txt(l, |all| dkim(expected, all)),
        (Purpose::Dmarc, Answer::Txt(l)) => txt(l, dmarc),
        (Purpose::MtaSts, Answer::Txt(l)) => txt(l, |all| mta_sts(expected, all)),
        (p, a) => Verdict::error(&format!("internal: {p:?} record judged on {a:?}")),
    }
}

fn mx(expected: &Expected, l: &Lookup<(u16, String)>) -> Verdict {
    let all = match l {
        Lookup::Found(all) if !all.is_empty() => all,
        Lookup::Found(_) | Lookup::Missing => return Verdict::missing(),
        Lookup::Failed(e) => return Verdict::error(e),
    };
    let found: Vec<String> = all
        .iter()
        .map(|(p, h)| format!("{p} {}", host(h)))
        .collect();
    let want = host(expected.value.split_whitespace().last().unwrap_or_default());
    let Some(best_ours) = all
        .iter()
        .filter(|(_, h)| host(h) == want)
        .map(|r| r.0)
        .min()
    else {
        return Verdict::wrong(found, format!("no MX points to {want}"));
    };
    // RFC 5321 §5.1: lower preference first; another host at or before ours receives mail too.
    let before: Vec<String> = all
        .iter()
        .filter(|(p, h)| host(h) != want && *p <= best_ours)
        .map(|(_, h)| host(h))
        .collect();
    if before.is_empty() {
        Verdict::ok(found)
    } else {
        Verdict::wrong(
            found,
            format!(
                "{} is preferred over or equal to {want}: mail would go there",
                before.join(", ")
            ),
        )
    }
}

fn cname(expected: &Expected, c: &CnameAnswer) -> Verdict {
    let want = host(&expected.value);
    let chain = match &c.chain {
        Ok(chain) => chain,
        Err(e) => return Verdict::error(e),
    };
    let mut found: Vec<String> = chain.iter().map(|t| format!("CNAME {}", host(t))).collect();
    if chain.iter().any(|t| host(t) == want) {
        return Verdict::ok(found);
    }
    match &c.addrs {
        Lookup::Found(addrs) if !addrs.is_empty() => {
            let shown = addrs.iter().map(|a| match a {
                IpAddr::V4(_) => format!("A {a}"),
                IpAddr::V6(_) => format!("AAAA {a}"),
            });
            found.extend(shown);
            if !c.platform.is_empty() && addrs.iter().all(|a| c.platform.contains(a)) {
                // The platform's own address, directly: as good as the CNAME.
                Verdict::ok(found)
            } else if c.platform.is_empty() {
                Verdict::wrong(
                    found,
                    format!("not a CNAME to {want}, and {want} has no address to compare with"),
                )
            } else {
                Verdict::wrong(
                    found,
                    format!("neither a CNAME to {want} nor {want}'s addresses"),
                )
            }
        }
        Lookup::Found(_) | Lookup::Missing if chain.is_empty() => Verdict::missing(),
        Lookup::Failed(e) if chain.is_empty() => Verdict::error(e),
        _ => Verdict::wrong(found, format!("the CNAME does not lead to {want}")),
    }
}

fn srv(expected: &Expected, l: &Lookup<Srv>) -> Verdict {
    let all = match l {
        Lookup::Found(all) if !all.is_empty() => all,
        Lookup::Found(_) | Lookup::Missing => return Verdict::missing(),
        Lookup::Failed(e) => return Verdict::error(e),
    };
    let found: Vec<String> = all
        .iter()
        .map(|s| format!("{} {} {} {}", s.priority, s.weight, s.port, host(&s.target)))
        .collect();
    let mut parts = expected.value.split_whitespace().skip(2);
    let port: u16 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let target = host(parts.next().unwrap_or_default());
    if all
        .iter()
        .any(|s| s.port == port && host(&s.target) == target)
    {
        Verdict::ok(found)
    } else if all.iter().all(|s| host(&s.target).is_empty()) {
        // RFC 2782: a target of "." says the service is not offered here.
        Verdict::wrong(
            found,
            "the record says the service is not available (\".\")",
        )
    } else {
        Verdict::wrong(found, format!("expected port {port} on {target}"))
    }
}

fn txt(l: &Lookup<String>, rule: impl FnOnce(&[String]) -> Verdict) -> Verdict {
    match l {
        Lookup::Found(all) if !all.is_empty() => rule(all),
        Lookup::Found(_) | Lookup::Missing => Verdict::missing(),
        Lookup::Failed(e) => Verdict::error(e),
    }
}

/// True if `record` starts with the version tag `v` (`v=spf1`, `v=DMARC1`...), followed by
/// the end, a space or a `;`.
fn versioned(record: &str, v: &str) -> bool {
    let r = record.trim_start();
    r.len() >= v.len()
        && r.is_char_boundary(v.len())
        && r[..v.len()].eq_ignore_ascii_case(v)
        && matches!(r[v.len()..].chars().next(), None | Some(' ' | ';' | '\t'))
}

/// The `tag=value` pairs of a DKIM, DMARC or MTA-STS record (RFC 6376 §3.2), names lowercase.
fn tags(record: &str) -> Vec<(String, String)> {
    record
        .split(';')
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

fn tag<'a>(tags: &'a [(String, String)], name: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The TXT records of one kind (`v=spf1`, `v=DMARC1`).
fn of_version(all: &[String], version: &str) -> Vec<String> {
    all.iter()
        .filter(|r| versioned(r, version))
        .cloned()
        .collect()
}

/// No record of that kind among the name's TXT records: missing, with what is there.
fn none_of_version(all: &[String], version: &str) -> Verdict {
    let mut v = Verdict::missing();
    v.found = all.to_vec();
    v.detail = Some(format!("no {version} record among the TXT records"));
    v
}

fn spf(expected: &Expected, all: &[String]) -> Verdict {
    let found = of_version(all, "v=spf1");
    match found.len() {
        0 => none_of_version(all, "v=spf1"),
        1 => {
            // Terms compare case-insensitively, with the default "+" qualifier made explicit.
            let norm = |t: &str| {
                let t = t.to_ascii_lowercase();
                t.strip_prefix('+').map(str::to_string).unwrap_or(t)
            };
            let have: Vec<String> = found[0].split_whitespace().skip(1).map(norm).collect();
            let lacking: Vec<String> = expected
                .value
                .split_whitespace()
                .skip(1)
                .map(norm)
                .filter(|t| !t.ends_with("all") && !have.contains(t))
                .collect();
            if lacking.is_empty() {
                Verdict::ok(found)
            } else {
                Verdict::wrong(
                    found,
                    format!(
                        "does not authorize the platform: lacks {}",
                        lacking.join(" ")
                    ),
                )
            }
        }
        n => Verdict::wrong(
            found,
            format!(
                "{n} SPF records: receivers treat that as a permanent error (RFC 7208 §4.5); publish exactly one"
            ),
        ),
    }
}

/// A `p=` key with its folding whitespace removed (RFC 6376 §3.6.1 allows it).
fn key(value: &str) -> String {
    value.chars().filter(|c| !c.is_whitespace()).collect()
}

fn dkim(expected: &Expected, all: &[String]) -> Verdict {
    let ours = tag(&tags(&expected.value), "p")
        .map(key)
        .unwrap_or_default();
    let keys: Vec<(&String, String)> = all
        .iter()
        .filter_map(|r| tag(&tags(r), "p").map(|p| (r, key(p))))
        .collect();
    if keys.iter().any(|(_, p)| *p == ours) {
        return Verdict::ok(keys.iter().map(|(r, _)| (*r).clone()).collect());
    }
    if keys.is_empty() {
        return Verdict::wrong(all.to_vec(), "no DKIM key record (no p= tag)");
    }
    let why = if keys.iter().all(|(_, p)| p.is_empty()) {
        "the key is revoked (empty p=)"
    } else {
        "the published key (p=) is not this domain's key"
    };
    Verdict::wrong(keys.iter().map(|(r, _)| (*r).clone()).collect(), why)
}

fn dmarc(all: &[String]) -> Verdict {
    let found = of_version(all, "v=DMARC1");
    match found.len() {
        0 => none_of_version(all, "v=DMARC1"),
        1 => {
            let t = tags(&found[0]);
            match tag(&t, "p").map(super::DmarcPolicy::parse) {
                Some(Some(super::DmarcPolicy::None)) => {
                    let mut v = Verdict::ok(found);
                    v.warning = Some(
                        "p=none: receivers take no action on mail that fails DMARC; \
                         consider p=quarantine"
                            .into(),
                    );
                    v
                }
                Some(Some(_)) => Verdict::ok(found),
                Some(None) => Verdict::wrong(
                    found,
                    "p= must be none, quarantine or reject (RFC 7489 §6.3)",
                ),
                None => Verdict::wrong(found, "no p= tag (RFC 7489 §6.3 requires one)"),
            }
        }
        n => Verdict::wrong(
            found,
            format!(
                "{n} DMARC records: receivers then apply none (RFC 7489 §6.6.3); publish exactly one"
            ),
        ),
    }
}

fn mta_sts(expected: &Expected, all: &[String]) -> Verdict {
    let found: Vec<String> = all
        .iter()
        .filter(|r| versioned(r, "v=STSv1"))
        .cloned()
        .collect();
    let ours = tag(&tags(&expected.value), "id")
        .unwrap_or_default()
        .to_string();
    match found.len() {
        0 => {
            let mut v = Verdict::missing();
            v.found = all.to_vec();
            v.detail = Some("no v=STSv1 record among the TXT records".into());
            v
        }
        1 => match tag(&tags(&found[0]), "id") {
            Some(id) if id == ours => Verdict::ok(found),
            Some(id) => Verdict::wrong(found, format!("id={id}, expected id={ours}")),
            None => Verdict::wrong(found, "no id= tag (RFC 8461 §3.1 requires one)"),
        },
        n => Verdict::wrong(
            found,
            format!(
                "{n} MTA-STS records: senders then ignore the policy (RFC 8461 §3.1); publish exactly one"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::RecordType;

    fn exp(rtype: RecordType, purpose: Purpose, value: &str) -> Expected {
        Expected {
            rtype,
            name: "c.example".into(),
            value: value.into(),
            purpose,
        }
    }

    fn found<T>(v: Vec<T>) -> Lookup<T> {
        Lookup::Found(v)
    }

    fn txts(v: &[&str]) -> Answer {
        Answer::Txt(found(v.iter().map(|s| s.to_string()).collect()))
    }

    #[test]
    fn mx_rules() {
        let e = exp(RecordType::Mx, Purpose::Mx, "10 mail.c.example");
        let ok = judge(&e, &Answer::Mx(found(vec![(10, "Mail.C.Example.".into())])));
        assert_eq!(ok.status, Status::Ok);
        assert_eq!(ok.found, ["10 mail.c.example"]);
        // A backup MX after ours is fine; another host first is not.
        let backup = vec![(10, "mail.c.example".into()), (20, "backup.example".into())];
        assert_eq!(judge(&e, &Answer::Mx(found(backup))).status, Status::Ok);
        let other = judge(
            &e,
            &Answer::Mx(found(vec![(10, "mx.other.example".into())])),
        );
        assert_eq!(other.status, Status::Wrong);
        assert_eq!(other.found, ["10 mx.other.example"]);
        assert!(other.detail.unwrap().contains("mail.c.example"));
        let before = vec![
            (20, "mail.c.example".into()),
            (5, "mx.other.example".into()),
        ];
        assert_eq!(judge(&e, &Answer::Mx(found(before))).status, Status::Wrong);
        assert_eq!(
            judge(&e, &Answer::Mx(Lookup::Missing)).status,
            Status::Missing
        );
        let failed = judge(&e, &Answer::Mx(Lookup::Failed("SERVFAIL".into())));
        assert_eq!(failed.status, Status::Error);
        assert_eq!(failed.detail.as_deref(), Some("SERVFAIL"));
    }

    #[test]
    fn cname_rules() {
        let e = exp(RecordType::Cname, Purpose::Cname, "mx.platform.example");
        let platform: Vec<IpAddr> = vec!["192.0.2.1".parse().unwrap()];
        let answer = |chain: Result<Vec<String>, String>, addrs| {
            Answer::Cname(CnameAnswer {
                chain,
                addrs,
                platform: platform.clone(),
            })
        };
        let direct = answer(Ok(vec!["MX.platform.example.".into()]), Lookup::Missing);
        assert_eq!(judge(&e, &direct).status, Status::Ok);
        // A chain through another name counts once it reaches the platform host.
        let chain = answer(
            Ok(vec!["alias.c.example".into(), "mx.platform.example".into()]),
            Lookup::Missing,
        );
        assert_eq!(judge(&e, &chain).status, Status::Ok);
        let by_address = answer(Ok(vec![]), found(platform.clone()));
        let v = judge(&e, &by_address);
        assert_eq!(
            (v.status, v.found),
            (Status::Ok, vec!["A 192.0.2.1".to_string()])
        );
        let other_address = answer(Ok(vec![]), found(vec!["198.51.100.9".parse().unwrap()]));
        assert_eq!(judge(&e, &other_address).status, Status::Wrong);
        let elsewhere = answer(Ok(vec!["web.host.example".into()]), Lookup::Missing);
        let v = judge(&e, &elsewhere);
        assert_eq!(v.status, Status::Wrong);
        assert_eq!(v.found, ["CNAME web.host.example"]);
        assert_eq!(
            judge(&e, &answer(Ok(vec![]), Lookup::Missing)).status,
            Status::Missing
        );
        let failed = answer(Err("timed out".into()), Lookup::Missing);
        assert_eq!(judge(&e, &failed).status, Status::Error);
    }

    #[test]
    fn srv_rules() {
        let e = exp(RecordType::Srv, Purpose::Srv, "0 1 993 mail.c.example");
        let srv = |port, target: &str| Srv {
            priority: 0,
            weight: 1,
            port,
            target: target.into(),
        };
        assert_eq!(
            judge(&e, &Answer::Srv(found(vec![srv(993, "mail.c.example.")]))).status,
            Status::Ok
        );
        let v = judge(&e, &Answer::Srv(found(vec![srv(143, "mail.c.example")])));
        assert_eq!(v.status, Status::Wrong);
        assert_eq!(v.found, ["0 1 143 mail.c.example"]);
        let none = judge(&e, &Answer::Srv(found(vec![srv(0, ".")])));
        assert!(none.detail.unwrap().contains("not available"));
    }

    #[test]
    fn spf_rules() {
        let e = exp(
            RecordType::Txt,
            Purpose::Spf,
            "v=spf1 mx a:mx.platform.example -all",
        );
        let ok = judge(
            &e,
            &txts(&[
                "google-site-verification=x",
                "v=spf1 +MX a:mx.platform.example include:x ~all",
            ]),
        );
        assert_eq!(ok.status, Status::Ok, "{ok:?}");
        assert_eq!(ok.found.len(), 1);
        let lacking = judge(&e, &txts(&["v=spf1 mx -all"]));
        assert_eq!(lacking.status, Status::Wrong);
        assert!(lacking.detail.unwrap().contains("a:mx.platform.example"));
        let two = judge(
            &e,
            &txts(&["v=spf1 mx a:mx.platform.example -all", "v=spf1 -all"]),
        );
        assert_eq!(two.status, Status::Wrong);
        assert!(two.detail.unwrap().contains("2 SPF records"));
        let none = judge(&e, &txts(&["v=spf10 x"]));
        assert_eq!(none.status, Status::Missing);
        assert_eq!(
            judge(&e, &Answer::Txt(Lookup::Missing)).status,
            Status::Missing
        );
    }

    #[test]
    fn dkim_rules() {
        let e = exp(RecordType::Txt, Purpose::Dkim, "v=DKIM1; k=ed25519; p=QUJD");
        assert_eq!(
            judge(&e, &txts(&["v=DKIM1; k=ed25519; p=QU JD"])).status,
            Status::Ok
        );
        let other = judge(&e, &txts(&["v=DKIM1; k=ed25519; p=WFla"]));
        assert_eq!(other.status, Status::Wrong);
        assert_eq!(other.found, ["v=DKIM1; k=ed25519; p=WFla"]);
        assert!(other.detail.unwrap().contains("not this domain's key"));
        let revoked = judge(&e, &txts(&["v=DKIM1; p="]));
        assert!(revoked.detail.unwrap().contains("revoked"));
    }

    #[test]
    fn dmarc_rules() {
        let e = exp(RecordType::Txt, Purpose::Dmarc, "v=DMARC1; p=quarantine");
        let reject = judge(&e, &txts(&["v=DMARC1; p=reject; rua=mailto:x@y"]));
        assert_eq!((reject.status, reject.warning), (Status::Ok, None));
        let none = judge(&e, &txts(&["v=DMARC1;p=none"]));
        assert_eq!(none.status, Status::Ok);
        assert!(none.warning.unwrap().contains("p=none"));
        assert_eq!(
            judge(&e, &txts(&["v=DMARC1; rua=mailto:x@y"])).status,
            Status::Wrong
        );
        assert_eq!(
            judge(&e, &txts(&["v=DMARC1; p=maybe"])).status,
            Status::Wrong
        );
        let two = judge(&e, &txts(&["v=DMARC1; p=reject", "v=DMARC1; p=none"]));
        assert_eq!(two.status, Status::Wrong);
    }

    #[test]
    fn mta_sts_rules() {
        let e = exp(RecordType::Txt, Purpose::MtaSts, "v=STSv1; id=abc123");
        assert_eq!(
            judge(&e, &txts(&["v=STSv1; id=abc123;"])).status,
            Status::Ok
        );
        let v = judge(&e, &txts(&["v=STSv1; id=old"]));
        assert_eq!(v.status, Status::Wrong);
        assert!(v.detail.unwrap().contains("expected id=abc123"));
    }
}
