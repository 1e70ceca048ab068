//! The TOTP second factor (RFC 6238) of administrators and managers: one shared secret per
//! staff member, stored beside (not inside) its staff record so that records written before
//! it existed read unchanged. The code itself is checked by the sign-in front end (the panel).

use marque_store::Keyspace;

use crate::directory as dir;
use crate::error::Result;
use crate::ids::StaffId;
use crate::policy::Action;
use crate::principal::{Actor, load_staff, staff_for};
use crate::{Core, audit};

impl Core {
    /// Enrols (`Some(secret)`) or removes (`None`) the TOTP secret of a staff member; allowed
    /// to whoever may set its password (itself, or an administrator above it). Audited.
    pub async fn set_staff_totp(
        &self,
        actor: &Actor,
        id: StaffId,
        secret: Option<Vec<u8>>,
    ) -> Result<()> {
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (rec, t) = staff_for(txn, &actor, id, Action::PasswordSet)?;
            let key = dir::owned_key(t.id, dir::TOTP, id.0);
            match &secret {
                Some(s) => dir::put(txn, Keyspace::Directory, key, s)?,
                None => txn.delete(Keyspace::Directory, key),
            }
            let target = format!("staff:{}", rec.staff.login);
            audit::record(
                txn,
                hooks,
                &actor,
                if secret.is_some() {
                    "staff.totp.enrol"
                } else {
                    "staff.totp.remove"
                },
                &t.path,
                &[&target],
                &serde_json::Value::Null,
            )?;
            Ok(())
        })
        .await
    }

    /// The TOTP secret of a staff member, if enrolled. No actor: the sign-in that needs it
    /// comes before there is one; the secret never leaves the server.
    pub async fn staff_totp(&self, id: StaffId) -> Result<Option<Vec<u8>>> {
        self.read(move |s| {
            let rec = load_staff(s, id)?;
            dir::get(
                s,
                Keyspace::Directory,
                &dir::owned_key(rec.staff.tenant, dir::TOTP, id.0),
            )
        })
        .await
    }
}
