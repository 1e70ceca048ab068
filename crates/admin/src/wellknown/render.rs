//! The documents mail clients read, rendered with every inserted value escaped: Thunderbird's
//! autoconfig (`clientConfig` 1.1), Outlook's autodiscover POX answer (`outlook` schema
//! 2006a), an Apple configuration profile (`com.apple.mail.managed`), and the MTA-STS policy
//! (RFC 8461 §3.2).

use sha2::{Digest, Sha256};

use super::{ClientPorts, MtaSts};

/// What every document names: the account and the branded service hosts.
pub(crate) struct Account<'a> {
    pub email: &'a str,
    pub domain: &'a str,
    /// The brand's name.
    pub display: &'a str,
    /// The brand's primary mail host (IMAP, POP3, submission).
    pub host: &'a str,
}

/// Escapes text for XML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Thunderbird autoconfig: IMAP and POP3 over implicit TLS, SMTP submission with implicit TLS
/// and with STARTTLS; the user name is the address (`%EMAILADDRESS%`).
pub(crate) fn thunderbird(a: &Account<'_>, p: &ClientPorts) -> String {
    let (d, n, h) = (esc(a.domain), esc(a.display), esc(a.host));
    let server = |tag: &str, kind: &str, port: u16, socket: &str| {
        format!(
            "    <{tag} type=\"{kind}\">\n      <hostname>{h}</hostname>\n      <port>{port}</port>\n      \
             <socketType>{socket}</socketType>\n      <authentication>password-cleartext</authentication>\n      \
             <username>%EMAILADDRESS%</username>\n    </{tag}>\n"
        )
    };
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n",
    );
    x.push_str(&format!(
        "  <emailProvider id=\"{d}\">\n    <domain>{d}</domain>\n    <displayName>{n}</displayName>\n    \
         <displayShortName>{n}</displayShortName>\n"
    ));
    x.push_str(&server("incomingServer", "imap", p.imaps, "SSL"));
    x.push_str(&server("incomingServer", "pop3", p.pop3s, "SSL"));
    x.push_str(&server("outgoingServer", "smtp", p.submissions, "SSL"));
    x.push_str(&server("outgoingServer", "smtp", p.submission, "STARTTLS"));
    x.push_str("  </emailProvider>\n</clientConfig>\n");
    x
}

/// The Outlook autodiscover answer (POX, `outlook` response schema 2006a): IMAP and SMTP.
pub(crate) fn outlook(a: &Account<'_>, p: &ClientPorts) -> String {
    let (e, n, h) = (esc(a.email), esc(a.display), esc(a.host));
    let protocol = |kind: &str, port: u16, extra: &str| {
        format!(
            "      <Protocol>\n        <Type>{kind}</Type>\n        <Server>{h}</Server>\n        \
             <Port>{port}</Port>\n        <DomainRequired>off</DomainRequired>\n        \
             <LoginName>{e}</LoginName>\n        <SPA>off</SPA>\n        <SSL>on</SSL>\n        \
             <AuthRequired>on</AuthRequired>\n{extra}      </Protocol>\n"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n  \
         <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n    \
         <User>\n      <DisplayName>{n}</DisplayName>\n    </User>\n    <Account>\n      \
         <AccountType>email</AccountType>\n      <Action>settings</Action>\n{}{}    </Account>\n  \
         </Response>\n</Autodiscover>\n",
        protocol("IMAP", p.imaps, ""),
        protocol(
            "SMTP",
            p.submissions,
            "        <UsePOPAuth>off</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>\n"
        ),
    )
}

/// A stable UUID-shaped identifier derived from `seed`, so that installing the profile again
/// replaces the earlier one instead of adding a second.
fn uuid(seed: &str) -> String {
    let h = hex::encode_upper(&Sha256::digest(seed.as_bytes())[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// An unsigned Apple configuration profile with one IMAP account.
pub(crate) fn mobileconfig(a: &Account<'_>, p: &ClientPorts) -> String {
    let (e, n, h) = (esc(a.email), esc(a.display), esc(a.host));
    let reverse: Vec<&str> = a.domain.rsplit('.').collect();
    let id = esc(&format!("{}.mail", reverse.join(".")));
    let (outer, inner) = (
        uuid(&format!("profile:{}", a.email)),
        uuid(&format!("account:{}", a.email)),
    );
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>EmailAccountDescription</key><string>{n}</string>
      <key>EmailAccountName</key><string>{e}</string>
      <key>EmailAccountType</key><string>EmailTypeIMAP</string>
      <key>EmailAddress</key><string>{e}</string>
      <key>IncomingMailServerAuthentication</key><string>EmailAuthPassword</string>
      <key>IncomingMailServerHostName</key><string>{h}</string>
      <key>IncomingMailServerPortNumber</key><integer>{imaps}</integer>
      <key>IncomingMailServerUseSSL</key><true/>
      <key>IncomingMailServerUsername</key><string>{e}</string>
      <key>OutgoingMailServerAuthentication</key><string>EmailAuthPassword</string>
      <key>OutgoingMailServerHostName</key><string>{h}</string>
      <key>OutgoingMailServerPortNumber</key><integer>{subs}</integer>
      <key>OutgoingMailServerUseSSL</key><true/>
      <key>OutgoingMailServerUsername</key><string>{e}</string>
      <key>OutgoingPasswordSameAsIncomingPassword</key><true/>
      <key>PayloadDescription</key><string>{n} mail account</string>
      <key>PayloadDisplayName</key><string>{n}</string>
      <key>PayloadIdentifier</key><string>{id}.account</string>
      <key>PayloadType</key><string>com.apple.mail.managed</string>
      <key>PayloadUUID</key><string>{inner}</string>
      <key>PayloadVersion</key><integer>1</integer>
    </dict>
  </array>
  <key>PayloadDisplayName</key><string>{n}</string>
  <key>PayloadIdentifier</key><string>{id}</string>
  <key>PayloadOrganization</key><string>{n}</string>
  <key>PayloadRemovalDisallowed</key><false/>
  <key>PayloadType</key><string>Configuration</string>
  <key>PayloadUUID</key><string>{outer}</string>
  <key>PayloadVersion</key><integer>1</integer>
</dict>
</plist>
"#,
        imaps = p.imaps,
        subs = p.submissions,
    )
}

/// The MTA-STS policy (RFC 8461 §3.2), lines ending in CRLF.
pub(crate) fn mta_sts(mx: &str, policy: &MtaSts) -> String {
    format!(
        "version: STSv1\r\nmode: {}\r\nmx: {mx}\r\nmax_age: {}\r\n",
        policy.mode.as_str(),
        policy.max_age_secs
    )
}
