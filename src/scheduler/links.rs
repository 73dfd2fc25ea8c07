//! The webinar link a learner gets: their personal MTS Link link (registered once per lesson
//! session and kept in `webinar_links`), or the group's general room when there is none —
//! the lesson has no MTS Link session, the API is not configured or fails. Staff hear of a
//! failure (at most once an hour); after one, the API is left alone for a few minutes so a
//! reminder to a thousand learners does not wait on a thousand timeouts.
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::app::{alerts, App};
use crate::config::WebinarSettings;
use crate::domain::catalog::{Group, Lesson};
use crate::store::{self, enrollments, schedule, LearnerRecord};
use crate::webinar::{MtsLink, MtsLinkParams, Registration, WebinarError};

/// How long one MTS Link request may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// After a failure of the service as a whole, this long without calling it.
const OUTAGE_PAUSE_SECONDS: i64 = 5 * 60;
/// The service name staff see in alerts.
pub const SERVICE: &str = "MTS Link";

/// The MTS Link client from `[webinar]`; `None` without a token.
pub fn client(settings: &WebinarSettings) -> Option<Arc<MtsLink>> {
    let token = settings
        .token
        .clone()
        .filter(|t| !t.expose_secret().trim().is_empty())?;
    match MtsLink::new(MtsLinkParams {
        api_url: settings.api_url.clone(),
        token,
        timeout: TIMEOUT,
    }) {
        Ok(client) => Some(Arc::new(client)),
        Err(e) => {
            tracing::error!(error = %e, "config: webinar: personal links are off");
            None
        }
    }
}

/// The link for one learner and lesson.
#[derive(Clone, PartialEq, Eq)]
pub struct WebinarLink {
    pub url: String,
    /// Issued to this learner (not the group's general room).
    pub personal: bool,
}

impl std::fmt::Debug for WebinarLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebinarLink")
            .field("personal", &self.personal)
            .finish_non_exhaustive()
    }
}

/// Personal links, with memory of recent failures (one per worker).
#[derive(Debug, Default)]
pub struct Links {
    outage_until: Mutex<Option<i64>>,
    /// MTS Link answered well since the last failure: calls go side by side. Until then one
    /// call at a time probes it, so an outage costs one failed call, not one per learner.
    healthy: AtomicBool,
    probe: tokio::sync::Mutex<()>,
    /// Sessions MTS Link does not know (a typo in the catalog): asked again after a restart.
    unknown_sessions: Mutex<HashSet<String>>,
}

impl Links {
    pub async fn for_learner(
        &self,
        app: &App,
        learner: &LearnerRecord,
        group: &Group,
        lesson: &Lesson,
        now: i64,
    ) -> store::Result<WebinarLink> {
        let general = WebinarLink {
            url: group.webinar_url.clone(),
            personal: false,
        };
        let Some(session) = lesson.webinar_session_id.as_deref() else {
            return Ok(general);
        };
        // No database connection is held across the calls below: they may wait long.
        let (stored, form) = {
            let mut conn = app.store.pool().acquire().await?;
            let stored = schedule::webinar_link(&mut conn, learner.id, &lesson.id).await?;
            let form = enrollments::last_application_of(&mut conn, learner.id).await?;
            (stored, form.unwrap_or_default())
        };
        if let Some(stored) = stored {
            if stored.event_session_id.as_deref() == Some(session) {
                return Ok(WebinarLink {
                    url: stored.link,
                    personal: true,
                });
            }
        }
        let Some(client) = app.webinar.as_ref() else {
            alerts::integration_failure(
                app,
                SERVICE,
                "[webinar] token is not set: learners get the group's general webinar link",
            )
            .await;
            return Ok(general);
        };
        let Some(email) = learner
            .email
            .clone()
            .filter(|_| learner.email_verified_at.is_some())
        else {
            tracing::warn!(
                learner_id = learner.id,
                "no verified email to register for the webinar; general link sent"
            );
            return Ok(general);
        };
        let _probing = if self.healthy.load(Ordering::Acquire) {
            None
        } else {
            Some(self.probe.lock().await)
        };
        if self
            .outage_until
            .lock()
            .expect("lock")
            .is_some_and(|t| now < t)
            || self
                .unknown_sessions
                .lock()
                .expect("lock")
                .contains(session)
        {
            return Ok(general);
        }
        let field = |k: &str| form.get(k).cloned().unwrap_or_default();
        let name = Some(field("name"))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| learner.display_name.clone());
        let registration = Registration {
            event_session_id: session.to_owned(),
            email,
            name,
            second_name: field("surname"),
        };
        match client.register(&registration).await {
            Ok(personal) => {
                self.healthy.store(true, Ordering::Release);
                let stored = schedule::StoredLink {
                    link: personal.link.clone(),
                    event_session_id: Some(session.to_owned()),
                    participation_id: Some(personal.participation_id.to_string()),
                };
                let mut conn = app.store.pool().acquire().await?;
                schedule::save_webinar_link(&mut conn, learner.id, &lesson.id, &stored, now)
                    .await?;
                Ok(WebinarLink {
                    url: personal.link,
                    personal: true,
                })
            }
            Err(e) => {
                match &e {
                    WebinarError::SessionNotFound { .. } => {
                        self.unknown_sessions
                            .lock()
                            .expect("lock")
                            .insert(session.to_owned());
                    }
                    WebinarError::Unavailable { .. }
                    | WebinarError::Unauthorized { .. }
                    | WebinarError::InvalidResponse(_) => {
                        *self.outage_until.lock().expect("lock") = Some(now + OUTAGE_PAUSE_SECONDS);
                        self.healthy.store(false, Ordering::Release);
                    }
                    // About this learner only (their email, a duplicate without a link).
                    WebinarError::AlreadyRegistered { .. }
                    | WebinarError::Rejected { .. }
                    | WebinarError::InvalidInput(_) => {}
                }
                tracing::warn!(
                    learner_id = learner.id,
                    lesson = %lesson.id,
                    error = %e,
                    "no personal webinar link; the group's general link is sent"
                );
                alerts::integration_failure(
                    app,
                    SERVICE,
                    &format!(
                        "{e} (lesson {}): learners get the group's general webinar link",
                        lesson.id
                    ),
                )
                .await;
                Ok(general)
            }
        }
    }
}
