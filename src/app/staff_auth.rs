//! Who may do what on the staff side, and staff buttons that cannot be forged.
//!
//! Roles come from configuration (`staff_user_ids` = managers, `admin_user_ids` = admins) and
//! are checked against the user who pressed a button or typed a command, never the chat.
//! Staff buttons carry a [`StaffAction`] signed with a key kept in the database (HMAC-SHA256
//! over the chat and the action, truncated to 64 bits): data made up by a client, or copied
//! from one chat into another, fails the check. Replays are stopped by state: every action
//! that changes something does so only from the state it expects (a review still pending, a
//! request not yet decided).
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use sqlx::AnyConnection;

use super::App;
use crate::config::StaffRole;
use crate::journey::action::Action;
use crate::store;

/// What a staff member may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Accept an application or return a document.
    Review,
    /// Find learners, open a card, see a group's roster, pending work and statistics.
    ViewLearners,
    /// Open a learner's documents (each access is audited).
    OpenDocuments,
    /// Export a group's roster with personal data, for printing documents.
    ExportRoster,
    /// Mark a certificate printed, enter a tracking number.
    Certificates,
    /// Mark an order paid by hand (bank transfer).
    MarkPaid,
    /// Send a message to every learner of a group.
    Broadcast,
    /// Read the audit log.
    ReadAudit,
}

impl Permission {
    /// The least role that has it. The matrix: managers do the daily work with learners;
    /// money, mass messages and the audit log are the admins'.
    pub fn least_role(self) -> StaffRole {
        match self {
            Self::MarkPaid | Self::Broadcast | Self::ReadAudit => StaffRole::Admin,
            Self::Review
            | Self::ViewLearners
            | Self::OpenDocuments
            | Self::ExportRoster
            | Self::Certificates => StaffRole::Manager,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Review => "review",
            Self::ViewLearners => "view-learners",
            Self::OpenDocuments => "open-documents",
            Self::ExportRoster => "export-roster",
            Self::Certificates => "certificates",
            Self::MarkPaid => "mark-paid",
            Self::Broadcast => "broadcast",
            Self::ReadAudit => "read-audit",
        }
    }
}

/// Why a staff action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The user is not staff at all.
    NotStaff,
    /// Staff, but the action needs a higher role.
    NeedsAdmin,
}

/// The role of `user_id` when it has `permission`.
pub fn authorize(app: &App, user_id: i64, permission: Permission) -> Result<StaffRole, Denied> {
    let role = app.staff.role(user_id).ok_or(Denied::NotStaff)?;
    if role >= permission.least_role() {
        Ok(role)
    } else {
        Err(Denied::NeedsAdmin)
    }
}

/// The audit actor of a Telegram user.
pub fn actor(user_id: i64) -> String {
    format!("staff:{user_id}")
}

/// An action behind a staff button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffAction {
    /// Accept the application of an enrollment.
    Accept(i64),
    /// Choose a document of an enrollment to return.
    Return(i64),
    /// Return this document (the reason is asked next).
    ReturnDoc(i64),
    /// Show a learner's card.
    Card(i64),
    /// Send a learner's documents into the chat.
    Docs(i64),
    /// The certificate of an enrollment is printed.
    Printed(i64),
    /// Ask for the tracking number of a printed document's letter.
    Track(i64),
    /// Show a learner's audit trail.
    Audit(i64),
    /// Confirm a staff request (manual payment, broadcast).
    Confirm(i64),
    /// Cancel a staff request.
    Cancel(i64),
    /// Send a group's roster as CSV.
    Csv(String),
    /// Handle a letter held for review (its `mail_messages` id) as the learner's.
    ReleaseLetter(i64),
    /// Leave a held letter unhandled.
    RejectLetter(i64),
}

fn number(s: &str) -> Option<i64> {
    let n: i64 = s.parse().ok()?;
    (n > 0 && !s.starts_with('0') && !s.starts_with('+')).then_some(n)
}

impl StaffAction {
    pub fn permission(&self) -> Permission {
        match self {
            Self::Accept(_)
            | Self::Return(_)
            | Self::ReturnDoc(_)
            | Self::ReleaseLetter(_)
            | Self::RejectLetter(_) => Permission::Review,
            Self::Card(_) => Permission::ViewLearners,
            Self::Docs(_) => Permission::OpenDocuments,
            Self::Printed(_) | Self::Track(_) => Permission::Certificates,
            Self::Audit(_) => Permission::ReadAudit,
            // The request itself says what it needs; confirming it is checked again there.
            Self::Confirm(_) | Self::Cancel(_) => Permission::ViewLearners,
            Self::Csv(_) => Permission::ExportRoster,
        }
    }

    fn body(&self) -> String {
        match self {
            Self::Accept(n) => format!("a{n}"),
            Self::Return(n) => format!("r{n}"),
            Self::ReturnDoc(n) => format!("d{n}"),
            Self::Card(n) => format!("c{n}"),
            Self::Docs(n) => format!("f{n}"),
            Self::Printed(n) => format!("p{n}"),
            Self::Track(n) => format!("t{n}"),
            Self::Audit(n) => format!("l{n}"),
            Self::Confirm(n) => format!("y{n}"),
            Self::Cancel(n) => format!("n{n}"),
            Self::Csv(group) => format!("g{group}"),
            Self::ReleaseLetter(n) => format!("m{n}"),
            Self::RejectLetter(n) => format!("x{n}"),
        }
    }

    fn from_body(body: &str) -> Option<Self> {
        let mut chars = body.chars();
        let tag = chars.next()?;
        let rest = chars.as_str();
        Some(match tag {
            'a' => Self::Accept(number(rest)?),
            'r' => Self::Return(number(rest)?),
            'd' => Self::ReturnDoc(number(rest)?),
            'c' => Self::Card(number(rest)?),
            'f' => Self::Docs(number(rest)?),
            'p' => Self::Printed(number(rest)?),
            't' => Self::Track(number(rest)?),
            'l' => Self::Audit(number(rest)?),
            'y' => Self::Confirm(number(rest)?),
            'n' => Self::Cancel(number(rest)?),
            'm' => Self::ReleaseLetter(number(rest)?),
            'x' => Self::RejectLetter(number(rest)?),
            'g' => {
                let ok = (1..=40).contains(&rest.len())
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !ok {
                    return None;
                }
                Self::Csv(rest.to_owned())
            }
            _ => return None,
        })
    }
}

/// Signs and checks staff buttons with the instances' shared key.
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
}

const TAG_BYTES: usize = 8;
const KEY_NAME: &str = "staff-button-key";

impl Signer {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, chat_id: i64, body: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key size");
        mac.update(chat_id.to_string().as_bytes());
        mac.update(b":");
        mac.update(body.as_bytes());
        mac
    }

    /// The callback action of a staff button shown in `chat_id`.
    pub fn sign(&self, chat_id: i64, action: &StaffAction) -> Action {
        let body = action.body();
        let tag = self.mac(chat_id, &body).finalize().into_bytes();
        Action::Staff(format!(
            "{body}.{}",
            URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])
        ))
    }

    /// The action of a pressed staff button, when its signature holds for this chat.
    pub fn verify(&self, chat_id: i64, token: &str) -> Option<StaffAction> {
        let (body, tag) = token.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != TAG_BYTES {
            return None;
        }
        self.mac(chat_id, body).verify_truncated_left(&tag).ok()?;
        StaffAction::from_body(body)
    }
}

/// The signer, its key read (or made, by the first instance) from the database once.
pub async fn signer(app: &App, conn: &mut AnyConnection) -> store::Result<Signer> {
    let key = app
        .staff_key
        .get_or_try_init(|| async {
            let fresh = hex::encode(rand::thread_rng().gen::<[u8; 32]>());
            let now = app.now().timestamp();
            let stored = store::staff::secret(conn, KEY_NAME, &fresh, now).await?;
            let mut key = [0u8; 32];
            hex::decode_to_slice(stored.trim(), &mut key)
                .map_err(|e| store::StoreError::Corrupt(format!("app_secrets.{KEY_NAME}: {e}")))?;
            Ok::<_, store::StoreError>(key)
        })
        .await?;
    Ok(Signer::new(*key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::new([7u8; 32])
    }

    fn token(action: Action) -> String {
        match action {
            Action::Staff(t) => t,
            other => panic!("not a staff action: {other:?}"),
        }
    }

    #[test]
    fn signed_actions_round_trip_within_callback_limits() {
        let s = signer();
        for a in [
            StaffAction::Accept(5),
            StaffAction::Return(i64::MAX),
            StaffAction::ReturnDoc(77),
            StaffAction::Card(1),
            StaffAction::Docs(2),
            StaffAction::Printed(3),
            StaffAction::Track(3),
            StaffAction::Audit(4),
            StaffAction::Confirm(9),
            StaffAction::Cancel(9),
            StaffAction::Csv("a".repeat(40)),
        ] {
            let action = s.sign(-100, &a);
            let data = action.encode();
            assert!(data.len() <= 64, "{data}");
            let parsed = Action::parse(&data).expect("parses as a staff action");
            assert_eq!(s.verify(-100, &token(parsed)), Some(a));
        }
    }

    #[test]
    fn forged_or_moved_buttons_fail() {
        let s = signer();
        let good = token(s.sign(-100, &StaffAction::Accept(5)));
        // Another chat, another key, a changed body, a truncated or missing tag.
        assert_eq!(s.verify(-200, &good), None);
        assert_eq!(Signer::new([8u8; 32]).verify(-100, &good), None);
        let (_, tag) = good.split_once('.').unwrap();
        assert_eq!(s.verify(-100, &format!("a6.{tag}")), None);
        assert_eq!(s.verify(-100, &good[..good.len() - 1]), None);
        assert_eq!(s.verify(-100, "a5"), None);
        assert_eq!(s.verify(-100, "a5."), None);
        // A well-signed body that is not an action.
        let odd = "z5";
        let tag = s.mac(-100, odd).finalize().into_bytes();
        let forged = format!("{odd}.{}", URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES]));
        assert_eq!(s.verify(-100, &forged), None);
    }

    #[test]
    fn the_matrix_keeps_money_mass_mail_and_audit_for_admins() {
        use Permission as P;
        for p in [P::MarkPaid, P::Broadcast, P::ReadAudit] {
            assert_eq!(p.least_role(), StaffRole::Admin, "{p:?}");
        }
        for p in [
            P::Review,
            P::ViewLearners,
            P::OpenDocuments,
            P::ExportRoster,
            P::Certificates,
        ] {
            assert_eq!(p.least_role(), StaffRole::Manager, "{p:?}");
        }
    }
}
