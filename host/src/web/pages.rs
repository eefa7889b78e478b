//! The signed-in pages: `/web/backups` and `/web/backups/schedules`. The
//! server renders the frame (navigation, dialogs, the user's id and CSRF
//! token); the page's script loads the data from the JSON API. Users who are
//! not ROOT get a page that says backups need ROOT, and no backup data.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::error::WebError;
use super::signed_in::SignedIn;
use crate::auth::session::Session;

/// Which sidebar entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The backups table.
    Backups,
    /// The schedules list.
    Schedules,
}

/// What every signed-in page shows of the session.
pub struct PageSession {
    /// The user's id, sent as `uid` with every API call.
    pub uid: u64,
    /// The user's name.
    pub username: String,
    /// The user's role, as the API spells it.
    pub role: &'static str,
    /// The CSRF token for the API's `X-CSRF-Token` header and the sign-out form.
    pub csrf: String,
}

impl PageSession {
    fn new(session: Session) -> Self {
        PageSession {
            uid: session.user.id,
            role: session.user.role.as_str(),
            username: session.user.username,
            csrf: session.csrf,
        }
    }

    /// The first letter of the username, for the avatar.
    pub fn initial(&self) -> String {
        self.username.chars().next().map(String::from).unwrap_or_default()
    }
}

/// One of the five cron inputs of the schedule form.
pub struct CronField {
    /// The input's name (what schedules.js reads).
    pub name: &'static str,
    /// Its label.
    pub label: &'static str,
    /// Its value in a new schedule (the default is `0 0 * * *`, midnight UTC).
    pub default: &'static str,
    /// The values it takes, in short.
    pub hint: &'static str,
}

/// The five fields of standard cron, in order.
const CRON_FIELDS: [CronField; 5] = [
    CronField { name: "minute", label: "Minute", default: "0", hint: "0-59" },
    CronField { name: "hour", label: "Hour", default: "0", hint: "0-23" },
    CronField { name: "dom", label: "Day of month", default: "*", hint: "1-31" },
    CronField { name: "month", label: "Month", default: "*", hint: "1-12, JAN-DEC" },
    CronField { name: "dow", label: "Day of week", default: "*", hint: "0-6 or SUN-SAT" },
];

/// The backups page.
#[derive(Template)]
#[template(path = "backups.html")]
struct BackupsPage {
    session: PageSession,
    section: Section,
}

/// The schedules page.
#[derive(Template)]
#[template(path = "schedules.html")]
struct SchedulesPage {
    session: PageSession,
    section: Section,
}

impl SchedulesPage {
    /// The cron inputs, for the template's loop.
    fn cron_fields(&self) -> &'static [CronField] {
        &CRON_FIELDS
    }
}

/// The page non-ROOT users see instead.
#[derive(Template)]
#[template(path = "root_required.html")]
struct RootRequiredPage {
    session: PageSession,
    section: Section,
}

/// Renders `page` for ROOT users and the "needs ROOT" page (403) for others.
fn root_page<T: Template>(
    session: Session,
    section: Section,
    page: impl FnOnce(PageSession) -> T,
) -> Result<Response, WebError> {
    let is_root = session.is_root();
    let session = PageSession::new(session);
    if !is_root {
        let html = RootRequiredPage { session, section }.render()?;
        return Ok((StatusCode::FORBIDDEN, Html(html)).into_response());
    }
    Ok(Html(page(session).render()?).into_response())
}

/// `GET /web/backups`.
pub async fn backups(SignedIn(session): SignedIn) -> Result<Response, WebError> {
    root_page(session, Section::Backups, |session| BackupsPage { session, section: Section::Backups })
}

/// `GET /web/backups/schedules`.
pub async fn schedules(SignedIn(session): SignedIn) -> Result<Response, WebError> {
    root_page(session, Section::Schedules, |session| SchedulesPage { session, section: Section::Schedules })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(username: &str, role: &'static str) -> PageSession {
        PageSession { uid: 7, username: username.to_owned(), role, csrf: "c$rf\"token".to_owned() }
    }

    #[test]
    fn pages_embed_the_uid_and_csrf_token_escaped() {
        let html = BackupsPage { session: session("root", "ROOT"), section: Section::Backups }.render().unwrap();
        assert!(html.contains(r#"<meta name="kinesis-uid" content="7">"#), "{html}");
        assert!(html.contains(r#"<meta name="kinesis-csrf" content="c$rf&#34;token">"#), "{html}");
        assert!(html.contains(r#"aria-current="page""#));
        assert!(html.contains("/web/assets/backups.js"));
    }

    #[test]
    fn user_names_are_escaped() {
        let page = RootRequiredPage { session: session("<script>x</script>", "VIEWER"), section: Section::Backups };
        let html = page.render().unwrap();
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&#60;script&#62;x"), "{html}");
        assert!(html.contains("Backups need ROOT"));
    }

    #[test]
    fn the_current_section_is_marked_in_the_sidebar() {
        let html = SchedulesPage { session: session("root", "ROOT"), section: Section::Schedules }.render().unwrap();
        let current = html.find(r#"aria-current="page""#).unwrap();
        let schedules_link = html.find(r#"href="/web/backups/schedules""#).unwrap();
        assert!(current > schedules_link, "the schedules link is the current one");
        assert_eq!(html.matches(r#"aria-current="page""#).count(), 1);
    }
}
