//! Not-authenticated state: STARTTLS, LOGIN and AUTHENTICATE PLAIN (with the initial
//! response of SASL-IR), refused with `[PRIVACYREQUIRED]` on plain text when the instance
//! wants TLS first.

use std::borrow::Cow;

use imap_codec::imap_types::auth::AuthMechanism;
use imap_codec::imap_types::core::AString;
use imap_codec::imap_types::secret::Secret;

use super::framing::Frame;
use super::parse;
use super::response::{self, Done};
use super::session::{Reply, Session};
use super::store;
use crate::sps::auth::{self, Login};

impl Session {
    pub(super) async fn starttls(&mut self, tag: &str) -> Reply {
        if self.tls {
            return Done::bad("TLS is already on").into();
        }
        if self.cfg.tls.is_none() {
            return Done::bad("TLS is not available").into();
        }
        response::tagged(&mut self.out, tag, &Done::ok("Begin TLS negotiation now"));
        if self.flush().await.is_err() || self.start_tls().await.is_err() {
            return Reply::Close;
        }
        Reply::Sent
    }

    fn privacy_required() -> Done {
        Done::no("Logins are disabled until TLS is on (STARTTLS)").code("PRIVACYREQUIRED")
    }

    pub(super) async fn login(
        &mut self,
        user: AString<'static>,
        pass: Secret<AString<'static>>,
    ) -> Done {
        if self.login_disabled() {
            return Self::privacy_required();
        }
        let user = String::from_utf8_lossy(user.as_ref()).into_owned();
        let pass = String::from_utf8_lossy(pass.declassify().as_ref()).into_owned();
        self.check_login(&user, &pass).await
    }

    async fn check_login(&mut self, user: &str, pass: &str) -> Done {
        match auth::login(&self.ctx, self.peer, user, pass).await {
            Ok(Some(login)) => self.logged_in(login).await,
            Ok(None) => {
                log::info!("imap {}: login failed for {user:?}", self.peer);
                Done::no("Authentication failed").code("AUTHENTICATIONFAILED")
            }
            Err(_) => Done::unavailable(),
        }
    }

    async fn logged_in(&mut self, login: Login) -> Done {
        log::info!("imap {}: {} logged in", self.peer, login.login);
        self.handle.set_login(&login.login, login.account_id);
        self.handle.set_state("AUTHENTICATED");
        let account_id = login.account_id;
        self.login = Some(login);
        self.allow_large_literals();
        store::prepare_account(&self.ctx.db, account_id).await;
        let caps = self.capabilities();
        Done::ok("Logged in").code(format!("CAPABILITY {caps}"))
    }

    pub(super) async fn authenticate(
        &mut self,
        mechanism: AuthMechanism<'static>,
        initial: Option<Secret<Cow<'static, [u8]>>>,
    ) -> Reply {
        if self.login_disabled() {
            return Self::privacy_required().into();
        }
        if mechanism != AuthMechanism::Plain {
            return Done::no(format!("Unsupported authentication mechanism {mechanism}"))
                .code("CANNOT")
                .into();
        }
        let data = match initial {
            Some(d) => d.declassify().to_vec(),
            None => {
                self.out.extend_from_slice(b"+ \r\n");
                if self.flush().await.is_err() {
                    return Reply::Close;
                }
                match self.next_frame().await {
                    Ok(Frame::Complete) => {}
                    Ok(Frame::Literal { .. }) | Ok(Frame::Overflow) => {
                        response::bye(&mut self.out, None, "invalid authentication data");
                        return Reply::Close;
                    }
                    Err(stop) => {
                        self.goodbye(stop).await;
                        return Reply::Close;
                    }
                }
                if self.framer.problem().is_some() {
                    return Done::bad("authentication data too long").into();
                }
                match parse::authenticate_data(self.framer.message()) {
                    Ok(Some(d)) => d,
                    Ok(None) => return Done::bad("Authentication cancelled").into(),
                    Err(_) => return Done::bad("Invalid base64 data").into(),
                }
            }
        };
        let Some(plain) = auth::sasl_plain(&data) else {
            return Done::bad("Invalid PLAIN message").into();
        };
        if !auth::authzid_allowed(&plain) {
            return Done::no("Acting as another user is not allowed")
                .code("AUTHORIZATIONFAILED")
                .into();
        }
        self.check_login(&plain.user, &plain.pass).await.into()
    }
}
