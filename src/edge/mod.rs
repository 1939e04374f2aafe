//! The Worker glue: the `fetch` entry, reading the request and the environment, and turning
//! the core's [`Reply`] values into responses. Compiled only for Wasm.

mod store;

use worker::{event, Context, Env, Request, Response, Result};

use crate::{route, Config, Error, Reply, Route};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let reply = match handle(&req, &env).await {
        Ok(reply) => reply,
        Err(error) => {
            if error.status() >= 500 {
                worker::console_error!(
                    "{} {}: {error}: {:?}",
                    req.method(),
                    req.path(),
                    std::error::Error::source(&error).map(|s| s.to_string())
                );
            }
            Reply::error(&error)
        }
    };
    respond(reply, req.method() == worker::Method::Head)
}

async fn handle(req: &Request, env: &Env) -> std::result::Result<Reply, Error> {
    let config = Config::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()))?;
    let url = req.url().map_err(|_| Error::RouteNotFound)?;
    match route(
        req.method().as_ref(),
        url.path(),
        url.query().unwrap_or_default(),
    )? {
        Route::Health { deep } => {
            if deep {
                store::ping(&config).await?;
            }
            Ok(Reply::health())
        }
        _ => Err(Error::RouteNotFound),
    }
}

/// Turns a [`Reply`] into a response; HEAD answers carry the headers without the body.
fn respond(reply: Reply, head: bool) -> Result<Response> {
    let body = if head { None } else { Some(reply.body) };
    let mut response = Response::builder().with_status(reply.status);
    for (name, value) in &reply.headers {
        response = response.with_header(name, value)?;
    }
    Ok(match body {
        Some(body) => response.fixed(body.into_bytes()),
        None => response.empty(),
    })
}
