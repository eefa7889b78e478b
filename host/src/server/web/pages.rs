//! The signed-in pages: `/web/backups` and `/web/backups/schedules`. The
//! server renders the frame (navigation, dialogs, the user's id and CSRF
//! token); the page's script loads the data from the JSON API. Users who are
//! not ROOT get a page that says backups need ROOT, and no backup data.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::error::WebError;
use super::session::{Session, SignedIn};

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

/// The page non-ROOT users see instead.
#[derive(Template)]
#[template(path = "root_required.html")]
struct RootRequiredPage {
    session: PageSession,
    section: Section,
}

/// Renders `page` for ROOT users and the "needs ROOT" page (403) for others.
fn root_page<T: Template>(session: Session, section: Section, page: impl FnOnce(PageSession) -> T) -> Result<Response, WebError> {
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
