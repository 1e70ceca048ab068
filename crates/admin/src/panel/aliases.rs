//! Aliases and mailing lists of a domain: created from the domain's page (listed there).

use axum::response::Response;

use super::ctx::Posted;

/// Addresses from a text field: one a line, or separated by commas or spaces.
fn addresses(text: &str) -> Vec<String> {
    text.split(['\n', ',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `POST /admin/aliases`.
pub async fn create(p: Posted) -> Response {
    let ctx = &p.ctx;
    let domain = p.get("domain").to_string();
    let address = format!("{}@{domain}", p.get("local"));
    let to = addresses(p.raw("targets"));
    let r = ctx.st.core.create_alias(ctx.actor(), &address, &to).await;
    ctx.done(
        &format!("/admin/domains/{domain}"),
        r.map(|a| format!("Alias {} created.", a.address)),
    )
    .await
}

/// `POST /admin/lists`.
pub async fn create_list(p: Posted) -> Response {
    let ctx = &p.ctx;
    let domain = p.get("domain").to_string();
    let address = format!("{}@{domain}", p.get("local"));
    let members = addresses(p.raw("members"));
    let r = ctx
        .st
        .core
        .create_list(ctx.actor(), &address, p.get("name"), &members)
        .await;
    ctx.done(
        &format!("/admin/domains/{domain}"),
        r.map(|l| format!("Mailing list {} created.", l.address)),
    )
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn address_fields() {
        assert_eq!(
            super::addresses("a@x.test, b@y.test\n c@z.test"),
            ["a@x.test", "b@y.test", "c@z.test"]
        );
        assert!(super::addresses(" \n ").is_empty());
    }
}
