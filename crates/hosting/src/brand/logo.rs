//! Logo images: PNG, JPEG or WebP, recognised by their magic bytes (a declared type alone
//! proves nothing), at most [`LOGO_MAX_BYTES`]. SVG is refused: it can carry scripts, and the
//! panel shows logos to visitors before they sign in.
//!
//! A logo is stored under its brand's tenant (`tenant · 'i' · id`) with a locator
//! (`'#' · 'i' · id`), so that it can be served by id alone. Uploading a new one replaces and
//! deletes the old; each upload gets a new id, so a logo's URL never changes content and can be
//! cached for good.

use serde::{Deserialize, Serialize};

use marque_store::{Keyspace, Txn};

use marque_core::audit;
use marque_core::directory::{self as dir, Loc, Reader};
use marque_core::error::{CoreError, Result};
use marque_core::ids::TenantId;
use marque_core::principal::Actor;

use super::{LogoRef, action, load, place};
use crate::{Hosting, brand::BrandOf};

/// Largest logo accepted (256 KiB).
pub const LOGO_MAX_BYTES: usize = 256 * 1024;
/// The image types accepted.
pub const LOGO_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];

/// A stored logo image.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Logo {
    content_type: String,
    bytes: Vec<u8>,
}

/// The type the bytes themselves show, if one of ours.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Checks a logo upload: the declared type (parameters ignored) must be one we take and match
/// what the bytes are; returns the type to store.
pub(crate) fn check(content_type: &str, bytes: &[u8]) -> Result<&'static str> {
    if bytes.is_empty() {
        return Err(CoreError::invalid("logo size", "the image is empty"));
    }
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(CoreError::invalid(
            "logo size",
            format!(
                "the image has {} bytes; at most {LOGO_MAX_BYTES} (256 KiB) are accepted",
                bytes.len()
            ),
        ));
    }
    let declared = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let declared = if declared == "image/jpg" {
        "image/jpeg".to_string()
    } else {
        declared
    };
    if declared.starts_with("image/svg") || declared.contains("xml") || declared == "text/html" {
        return Err(CoreError::invalid(
            "logo type",
            format!(
                "{declared} is refused: SVG and markup can carry scripts; use PNG, JPEG or WebP"
            ),
        ));
    }
    if !LOGO_TYPES.contains(&declared.as_str()) {
        return Err(CoreError::invalid(
            "logo type",
            format!("{declared:?} is not accepted; use image/png, image/jpeg or image/webp"),
        ));
    }
    match sniff(bytes) {
        Some(found) if found == declared => Ok(found),
        Some(found) => Err(CoreError::invalid(
            "logo type",
            format!("declared {declared}, but the content is {found}"),
        )),
        None => Err(CoreError::invalid(
            "logo type",
            format!("declared {declared}, but the content is not a PNG, JPEG or WebP image"),
        )),
    }
}

/// Deletes a stored logo and its locator.
pub(crate) fn remove(txn: &mut Txn<'_>, owner: TenantId, id: u64) {
    txn.delete(Keyspace::Directory, dir::owned_key(owner, dir::LOGO, id));
    txn.delete(Keyspace::Names, dir::locator_key(dir::LOGO, id));
}

/// Reads a logo by id.
fn get(r: &impl Reader, id: u64) -> Result<Option<Logo>> {
    let Some(loc) = dir::locate(r, dir::LOGO, id)? else {
        return Ok(None);
    };
    dir::get(
        r,
        Keyspace::Directory,
        &dir::owned_key(loc.tenant, dir::LOGO, id),
    )
}

impl Hosting {
    /// Uploads the logo of a brand record (which must exist), with the same permission and
    /// plan rules as [`Hosting::set_brand`]; the previous logo is deleted. Returns the new
    /// reference.
    pub async fn set_brand_logo(
        &self,
        actor: &Actor,
        of: BrandOf,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<LogoRef> {
        let content_type = check(content_type, &bytes)?;
        let a = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let place = place(txn, &of, Some((&a, action(&of, true))))?;
                if !super::allowed(txn, place.owner.id)?.branding {
                    return Err(CoreError::NotInPlan {
                        feature: "custom branding (features.custom_branding)",
                        tenant: place.owner.id.to_string(),
                    });
                }
                let mut brand = load(txn, &place.key)?.ok_or_else(|| CoreError::State {
                    what: "brand",
                    key: place.of.to_string(),
                    reason: "set the brand before its logo".into(),
                })?;
                if let Some(old) = &brand.logo {
                    remove(txn, place.owner.id, old.id);
                }
                let id = txn.next_id("logo")?;
                let size = bytes.len() as u64;
                dir::put(
                    txn,
                    Keyspace::Directory,
                    dir::owned_key(place.owner.id, dir::LOGO, id),
                    &Logo {
                        content_type: content_type.to_string(),
                        bytes,
                    },
                )?;
                dir::set_locator(
                    txn,
                    dir::LOGO,
                    id,
                    Loc {
                        tenant: place.owner.id,
                        domain: place.domain,
                    },
                )?;
                let logo = LogoRef {
                    id,
                    content_type: content_type.to_string(),
                    size,
                };
                brand.logo = Some(logo.clone());
                dir::put(txn, Keyspace::Directory, place.key.clone(), &brand)?;
                audit::record(
                    txn,
                    hooks,
                    &a,
                    "brand.logo",
                    &place.owner.path,
                    &[&place.of.to_string()],
                    &logo,
                )?;
                Ok(logo)
            })
            .await
    }

    /// Removes the logo of a brand record; not found if it had none.
    pub async fn clear_brand_logo(&self, actor: &Actor, of: BrandOf) -> Result<()> {
        let a = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let place = place(txn, &of, Some((&a, action(&of, true))))?;
                let mut brand = load(txn, &place.key)?
                    .ok_or_else(|| CoreError::not_found("brand", &place.of))?;
                let old = brand
                    .logo
                    .take()
                    .ok_or_else(|| CoreError::not_found("brand logo", &place.of))?;
                remove(txn, place.owner.id, old.id);
                dir::put(txn, Keyspace::Directory, place.key.clone(), &brand)?;
                audit::record(
                    txn,
                    hooks,
                    &a,
                    "brand.logo_clear",
                    &place.owner.path,
                    &[&place.of.to_string()],
                    &old,
                )?;
                Ok(())
            })
            .await
    }

    /// A logo image by id: its content type and bytes. Public (no actor): the panel shows
    /// logos before anyone signs in, and ids say nothing about their owner.
    pub async fn brand_logo(&self, id: u64) -> Result<Option<(String, Vec<u8>)>> {
        self.core
            .read(move |s| Ok(get(s, id)?.map(|l| (l.content_type, l.bytes))))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(check("image/png", png).unwrap(), "image/png");
        assert_eq!(check("IMAGE/PNG; q=1", png).unwrap(), "image/png");
        assert!(check("image/jpeg", png).is_err());
        assert_eq!(
            check("image/jpg", &[0xff, 0xd8, 0xff, 0xe0]).unwrap(),
            "image/jpeg"
        );
        assert_eq!(
            check("image/webp", b"RIFF\x10\0\0\0WEBPVP8 ").unwrap(),
            "image/webp"
        );
        assert!(check("image/png", b"<svg onload=alert(1)>").is_err());
        assert!(check("image/svg+xml", b"<svg/>").is_err());
        assert!(check("image/gif", b"GIF89a").is_err());
        assert!(check("image/png", b"").is_err());
        let big = [png.as_slice(), &vec![0u8; LOGO_MAX_BYTES]].concat();
        assert!(matches!(
            check("image/png", &big),
            Err(CoreError::Invalid {
                field: "logo size",
                ..
            })
        ));
    }
}
