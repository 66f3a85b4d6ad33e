//! The admin API (docs/lab-admin-api.md): the lab's control and observation plane on its own
//! loopback port, behind a bearer token.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lab_admin_api::{
    encode::parse_query, parse_body, routes, AlarmCounts, AlarmHistoryItem, AlarmView, AliasRouting,
    AliasUpdate, AliasView, CompositeAlarmView, Concurrency, Configuration, ConfigurationUpdate,
    DrillDocument, Environment, ErrorMessage, FunctionView, Health, LastUpdateStatus, LiveView, LogEvent,
    LogQuery, MetricData, MetricPoint, MetricQuery, PublishVersion, ReleaseRequest, ReleaseView,
    RollbackReply, ServedVersion, Stats, Status, VersionView,
};
use outage_config::FaultConfig;
use time::OffsetDateTime;

use crate::lab::LabState;
use crate::runtime::pool::{Alias, ControlError, FunctionConfig, Pool};

/// The live dashboard page (one self-contained file, built into the binary).
const DASHBOARD: &str = include_str!("../../report/assets/dashboard.html");

/// The runbooks, built in: an alarm's description names `docs/runbooks/<kind>.md` when the
/// stage file publishes them nowhere else, and the dashboard links that name here.
const RUNBOOKS: [(&str, &str); 6] = [
    ("README.md", include_str!("../../../docs/runbooks/README.md")),
    (
        "fast-errors.md",
        include_str!("../../../docs/runbooks/fast-errors.md"),
    ),
    ("errors.md", include_str!("../../../docs/runbooks/errors.md")),
    (
        "duration-p99.md",
        include_str!("../../../docs/runbooks/duration-p99.md"),
    ),
    (
        "throttles.md",
        include_str!("../../../docs/runbooks/throttles.md"),
    ),
    ("api-5xx.md", include_str!("../../../docs/runbooks/api-5xx.md")),
];

/// Where a runbook link opens from the lab: a repository-relative `docs/runbooks/<file>` the
/// lab serves becomes `<admin_url>/runbooks/<file>`; a published URL stays as it is. The
/// dashboard's `runbookLink` follows the same rule.
pub fn runbook_href(admin_url: &str, link: &str) -> String {
    let served = link
        .strip_prefix(outage_config::RUNBOOKS_DIR)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|file| RUNBOOKS.iter().any(|(name, _)| name == file));
    match served {
        Some(file) => format!("{admin_url}/runbooks/{file}"),
        None => link.to_owned(),
    }
}

const MAX_ADMIN_BODY: usize = 1024 * 1024;

/// The most a function may reserve here (Lambda's default account concurrency).
pub const MAX_RESERVED_CONCURRENCY: u32 = 1000;

/// An error answer: `{"message": ...}` with its status.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorMessage { message: self.1 })).into_response()
    }
}

fn bad(text: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, text.into())
}

fn unknown_function(key: &str) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("unknown function {key:?}"))
}

fn unknown_alarm(name: &str) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("unknown alarm {name:?}"))
}

type Reply<T> = Result<Json<T>, ApiError>;
type Lab = State<Arc<LabState>>;

/// Compares without an early exit, so the answer time does not leak how much of a guess was right.
fn same_token(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn require_token(State(state): Lab, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given.is_some_and(|t| same_token(t.trim(), &state.token)) {
        next.run(req).await
    } else {
        ApiError(StatusCode::UNAUTHORIZED, "Unauthorized".into()).into_response()
    }
}

/// The admin API's route table. Every route but the dashboard page and `/healthz` needs the
/// bearer token; unknown paths (404) and unknown methods (405) are the router's answers.
pub fn router(state: Arc<LabState>) -> Router {
    let private = Router::new()
        .route(routes::STATUS, get(status))
        .route(routes::FUNCTIONS, get(functions))
        .route(routes::FUNCTION, get(function))
        .route(
            routes::CONFIGURATION,
            get(get_configuration).put(put_configuration),
        )
        .route(
            routes::CONCURRENCY,
            axum::routing::put(put_concurrency).delete(delete_concurrency),
        )
        .route(routes::VERSIONS, get(get_versions).post(post_version))
        .route(routes::LIVE_ALIAS, get(get_alias).put(put_alias))
        .route(routes::RELEASES_OF, axum::routing::post(post_release))
        .route(routes::ROLLBACK, axum::routing::post(post_rollback))
        .route(routes::RELEASES, get(releases))
        .route(routes::RELEASE, get(release))
        .route(routes::METRICS, get(metrics))
        .route(routes::ALARMS, get(alarms))
        .route(routes::ALARM, get(alarm))
        .route(routes::ALARM_HISTORY, get(alarm_history))
        .route(routes::COMPOSITE_ALARMS, get(composite_alarms))
        .route(routes::CHANGES, get(changes))
        .route(routes::LOGS, get(logs))
        .route(routes::NOTIFICATIONS, get(notifications))
        .route(routes::DRILL, get(get_drill).put(put_drill))
        .route(routes::STATS, get(stats))
        .route(routes::GAMEDAY, get(gameday))
        .route(routes::GAMEDAY_ACK, axum::routing::post(gameday_ack))
        .route(routes::GAMEDAY_DIAGNOSIS, axum::routing::post(gameday_diagnosis))
        .route(routes::GAMEDAY_HINT, axum::routing::post(gameday_hint))
        .route(routes::GAMEDAY_GIVE_UP, axum::routing::post(gameday_give_up))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        // The dashboard page itself is public; the token it needs comes as ?token= and its
        // requests carry it as a bearer token like every other client.
        .route(routes::DASHBOARD, get(dashboard))
        .route(routes::RUNBOOK, get(runbook))
        .route(
            routes::HEALTHZ,
            get(|| async { Json(Health { status: "ok".into() }) }),
        )
        .merge(private)
        .fallback(|| async { ApiError(StatusCode::NOT_FOUND, "Not Found".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed".into())
        })
        .with_state(state)
}

async fn dashboard() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], DASHBOARD)
}

/// Plain text, so that a browser shows the Markdown rather than downloading it.
async fn runbook(Path(file): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let (_, text) = RUNBOOKS
        .iter()
        .find(|(name, _)| *name == file)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no runbook {file:?}")))?;
    Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], *text))
}

async fn body_of<T: serde::de::DeserializeOwned>(body: Body) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_ADMIN_BODY)
        .await
        .map_err(|_| bad("body: larger than 1 MB or unreadable"))?;
    parse_body(&bytes).map_err(bad)
}

fn query(raw: Option<String>) -> BTreeMap<String, String> {
    parse_query(raw.as_deref().unwrap_or(""))
}

fn pool<'a>(state: &'a LabState, key: &str) -> Result<&'a Arc<Pool>, ApiError> {
    state.pools.get(key).ok_or_else(|| unknown_function(key))
}

async fn status(State(state): Lab) -> Json<Status> {
    let mut alarms = AlarmCounts::default();
    for a in state.alarms.alarms() {
        alarms.add(a.state);
    }
    Json(Status {
        lab: state.info.clone(),
        functions: state.pools.len(),
        alarms,
        gameday: state.gameday.get().map(|d| d.id.clone()),
    })
}

fn configuration(state: &LabState, key: &str, pool: &Pool) -> Configuration {
    let config = pool.config();
    let spec = &state.stage.functions[key];
    Configuration {
        function_name: state.stage.function_name(key),
        environment: Environment {
            variables: config.variables.clone(),
        },
        memory_size: spec.memory_mb,
        timeout: spec.timeout_s,
        reserved_concurrent_executions: pool.reserved_concurrency(),
        last_update_status: LastUpdateStatus::Successful,
        last_update_status_reason: None,
        revision_id: config.revision_id.clone(),
    }
}

fn function_view(state: &LabState, key: &str, pool: &Pool) -> FunctionView {
    FunctionView {
        configuration: configuration(state, key, pool),
        key: key.to_owned(),
        code: pool.code.clone(),
        log_group: state.stage.log_group(key),
        environments: pool.environments(),
        live: Some(LiveView {
            alias: alias_view(state, key, &pool.alias()),
            versions: pool
                .served_versions()
                .into_iter()
                .map(|(c, weight)| ServedVersion {
                    version: c.version_label(),
                    weight,
                    variables: c.variables.clone(),
                })
                .collect(),
        }),
    }
}

async fn functions(State(state): Lab) -> Json<Vec<FunctionView>> {
    Json(
        state
            .pools
            .iter()
            .map(|(k, p)| function_view(&state, k, p))
            .collect(),
    )
}

async fn function(State(state): Lab, Path(key): Path<String>) -> Reply<FunctionView> {
    let p = pool(&state, &key)?;
    Ok(Json(function_view(&state, &key, p)))
}

async fn get_configuration(State(state): Lab, Path(key): Path<String>) -> Reply<Configuration> {
    let p = pool(&state, &key)?;
    Ok(Json(configuration(&state, &key, p)))
}

/// Who makes a control-plane call: the `X-Outage-Lab-Actor` header (a drill, a game day, a
/// person's name), or `admin-api`.
fn actor(headers: &HeaderMap) -> String {
    headers
        .get(lab_admin_api::ACTOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map_or_else(|| "admin-api".to_owned(), |v| v.chars().take(64).collect())
}

async fn put_configuration(
    State(state): Lab,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply<Configuration> {
    let p = pool(&state, &key)?;
    let update: ConfigurationUpdate = body_of(body).await?;
    check_variables(&update.variables).map_err(bad)?;
    let before = p.config().variables.clone();
    let function_name = state.stage.function_name(&key);
    state
        .changes
        .configuration(&actor(&headers), &function_name, &before, &update.variables);
    p.update_config(update.variables);
    tracing::info!(function = %state.stage.function_name(&key), "configuration updated");
    Ok(Json(configuration(&state, &key, p)))
}

/// What UpdateFunctionConfiguration refuses: names Lambda reserves or cannot take, and a
/// fault the functions could not read.
pub fn check_variables(variables: &BTreeMap<String, String>) -> Result<(), String> {
    for name in variables.keys() {
        outage_config::variables::check_name(name).map_err(|why| format!("Variables.{name}: {why}"))?;
    }
    FaultConfig::from_vars(variables).map_err(|e| e.to_string())?;
    Ok(())
}

fn version_view(state: &LabState, key: &str, c: &FunctionConfig) -> VersionView {
    VersionView {
        function_name: state.stage.function_name(key),
        version: c.version_label(),
        code_sha256: c.code_sha256.clone(),
        environment: Environment {
            variables: c.variables.clone(),
        },
        description: c.description.clone(),
        revision_id: c.revision_id.clone(),
        last_modified: crate::time_fmt::rfc3339(c.last_modified),
    }
}

fn alias_view(state: &LabState, key: &str, alias: &Alias) -> AliasView {
    let function_name = state.stage.function_name(key);
    AliasView {
        name: outage_config::release::LIVE_ALIAS.into(),
        alias_arn: format!(
            "arn:aws:lambda:{}:{}:function:{function_name}:{}",
            state.stage.aws_region,
            state.stage.allowed_account_ids.first().map_or("", String::as_str),
            outage_config::release::LIVE_ALIAS
        ),
        function_version: alias.version.to_string(),
        routing_config: alias.additional.map(|(n, w)| AliasRouting {
            additional_version_weights: BTreeMap::from([(n.to_string(), w)]),
        }),
        revision_id: alias.revision_id.clone(),
    }
}

fn control_error(e: ControlError) -> ApiError {
    match e {
        ControlError::NotFound(m) => ApiError(StatusCode::NOT_FOUND, m),
        ControlError::Invalid(m) => bad(m),
        ControlError::Stale(m) => ApiError(StatusCode::PRECONDITION_FAILED, m),
        ControlError::Busy(m) => ApiError(StatusCode::CONFLICT, m),
    }
}

async fn get_versions(State(state): Lab, Path(key): Path<String>) -> Reply<Vec<VersionView>> {
    let p = pool(&state, &key)?;
    Ok(Json(
        p.versions()
            .iter()
            .map(|c| version_view(&state, &key, c))
            .collect(),
    ))
}

async fn post_version(
    State(state): Lab,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply<VersionView> {
    let p = pool(&state, &key)?;
    let request: PublishVersion = body_of(body).await?;
    let published = crate::release::publish(
        &state,
        &key,
        p,
        &actor(&headers),
        request.description.as_deref().unwrap_or(""),
        request.revision_id.as_deref(),
    )
    .map_err(control_error)?;
    Ok(Json(version_view(&state, &key, &published)))
}

async fn get_alias(State(state): Lab, Path(key): Path<String>) -> Reply<AliasView> {
    let p = pool(&state, &key)?;
    Ok(Json(alias_view(&state, &key, &p.alias())))
}

/// A version as an alias may name it: a published number (never `$LATEST`: the API's alias
/// must serve an immutable version, and Lambda refuses weights on `$LATEST`).
fn version_number(text: &str, field: &str) -> Result<u32, ApiError> {
    text.parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad(format!("{field}: {text:?} is not a published version number")))
}

async fn put_alias(
    State(state): Lab,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply<AliasView> {
    let p = pool(&state, &key)?;
    let update: AliasUpdate = body_of(body).await?;
    if let Some(id) = state.releases.running(&key) {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("release {id} of {key} is moving this alias: run `outage-lab rollback {key}` first"),
        ));
    }
    let version = update
        .function_version
        .as_deref()
        .map(|v| version_number(v, "FunctionVersion"))
        .transpose()?;
    let additional = match &update.routing_config {
        None => None,
        Some(r) if r.additional_version_weights.is_empty() => Some(None),
        Some(r) if r.additional_version_weights.len() > 1 => {
            return Err(bad(
                "RoutingConfig.AdditionalVersionWeights: at most one additional version",
            ))
        }
        Some(r) => {
            let (v, w) = r.additional_version_weights.iter().next().expect("one entry");
            Some(Some((
                version_number(v, "RoutingConfig.AdditionalVersionWeights")?,
                *w,
            )))
        }
    };
    let alias = p
        .update_alias(version, additional, update.revision_id.as_deref())
        .map_err(control_error)?;
    let summary = match alias.additional {
        Some((n, w)) => format!(
            "live -> version {}, {}% to version {n}",
            alias.version,
            (w * 100.0).round()
        ),
        None => format!("live -> version {}", alias.version),
    };
    state.changes.call(
        &actor(&headers),
        &state.stage.function_name(&key),
        "UpdateAlias",
        summary,
    );
    Ok(Json(alias_view(&state, &key, &alias)))
}

async fn post_release(
    State(state): Lab,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply<ReleaseView> {
    let request: ReleaseRequest = body_of(body).await?;
    crate::release::start(&state, &key, &request, &actor(&headers))
        .map(Json)
        .map_err(control_error)
}

async fn post_rollback(
    State(state): Lab,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Reply<RollbackReply> {
    crate::release::rollback(&state, &key, &actor(&headers))
        .map(Json)
        .map_err(control_error)
}

async fn releases(State(state): Lab) -> Json<Vec<ReleaseView>> {
    Json(state.releases.all(&state))
}

async fn release(State(state): Lab, Path(id): Path<String>) -> Reply<ReleaseView> {
    state
        .releases
        .get(&state, &id)
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no release {id:?}")))
}

async fn put_concurrency(
    State(state): Lab,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply<Concurrency> {
    let p = pool(&state, &key)?;
    let wanted: Concurrency = body_of(body).await?;
    let n = wanted.reserved_concurrent_executions;
    if n > MAX_RESERVED_CONCURRENCY {
        return Err(bad(format!(
            "ReservedConcurrentExecutions: {n} is more than the account's {MAX_RESERVED_CONCURRENCY}"
        )));
    }
    let before = p.reserved_concurrency();
    p.set_reserved_concurrency(Some(n));
    state.changes.concurrency(
        &actor(&headers),
        &state.stage.function_name(&key),
        before,
        Some(n),
    );
    tracing::info!(function = %state.stage.function_name(&key), reserved = n, "concurrency reserved");
    Ok(Json(wanted))
}

async fn delete_concurrency(
    State(state): Lab,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let p = pool(&state, &key)?;
    let before = p.reserved_concurrency();
    p.set_reserved_concurrency(None);
    state
        .changes
        .concurrency(&actor(&headers), &state.stage.function_name(&key), before, None);
    tracing::info!(function = %state.stage.function_name(&key), "reserved concurrency removed");
    // Lambda's DeleteFunctionConcurrency answers 204 with no body.
    Ok(StatusCode::NO_CONTENT)
}

fn epoch(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64)
}

async fn metrics(State(state): Lab, RawQuery(raw): RawQuery) -> Reply<MetricData> {
    let q = MetricQuery::from_query(&query(raw)).map_err(bad)?;
    let period = q.period.unwrap_or(MetricQuery::DEFAULT_PERIOD);
    let stat = q.stat.unwrap_or_else(|| MetricQuery::DEFAULT_STAT.into());
    let end = q
        .end
        .unwrap_or_else(|| crate::time_fmt::epoch_secs(SystemTime::now()) + 1);
    let start = q.start.unwrap_or(end - 3600);
    let store_query = lab_cloudwatch::MetricQuery {
        namespace: q.namespace,
        metric_name: q.metric.clone(),
        dimensions: q.dimensions,
        period_s: period,
        statistic: stat.clone(),
        start: epoch(start),
        end: epoch(end),
    };
    let points = state
        .metrics
        .store()
        .query(&store_query)
        .map_err(|e| bad(e.to_string()))?;
    Ok(Json(MetricData {
        label: q.metric,
        period,
        stat,
        datapoints: points
            .iter()
            .map(|p| MetricPoint {
                timestamp: crate::time_fmt::epoch_secs(p.timestamp),
                value: p.value,
            })
            .collect(),
    }))
}

fn alarm_view(a: &lab_cloudwatch::AlarmStatus) -> AlarmView {
    let d = &a.definition;
    AlarmView {
        alarm_name: a.name.clone(),
        state_value: a.state,
        state_reason: a.reason.clone(),
        state_reason_data: a.reason_data.clone(),
        state_updated_timestamp: OffsetDateTime::from(a.updated_at),
        namespace: d.namespace.clone(),
        metric_name: d.metric_name.clone(),
        dimensions: d.dimensions.clone(),
        statistic: d.statistic.name().to_owned(),
        period: d.period_s,
        evaluation_periods: d.evaluation_periods,
        datapoints_to_alarm: d.datapoints_to_alarm,
        threshold: d.threshold,
        comparison_operator: d.comparison_operator.clone(),
        treat_missing_data: d.treat_missing_data.as_str().to_owned(),
        alarm_description: d.description.clone(),
        alarm_actions: vec![d.topic.clone()],
        minus: d.minus.clone(),
    }
}

async fn alarms(State(state): Lab) -> Json<Vec<AlarmView>> {
    Json(state.alarms.alarms().iter().map(alarm_view).collect())
}

async fn composite_alarms(State(state): Lab) -> Json<Vec<CompositeAlarmView>> {
    Json(
        state
            .alarms
            .composites()
            .into_iter()
            .map(|c| CompositeAlarmView {
                alarm_name: c.name,
                state_value: c.state,
                state_reason: c.reason,
                state_updated_timestamp: OffsetDateTime::from(c.updated_at),
                alarm_rule: c.definition.rule,
                alarm_description: c.definition.description,
                alarm_actions: vec![c.definition.topic],
            })
            .collect(),
    )
}

async fn alarm(State(state): Lab, Path(name): Path<String>) -> Reply<AlarmView> {
    let a = state.alarms.alarm(&name).ok_or_else(|| unknown_alarm(&name))?;
    Ok(Json(alarm_view(&a)))
}

async fn alarm_history(State(state): Lab, Path(name): Path<String>) -> Reply<Vec<AlarmHistoryItem>> {
    let items = state.alarms.history(&name).ok_or_else(|| unknown_alarm(&name))?;
    Ok(Json(
        items
            .iter()
            .map(|h| AlarmHistoryItem {
                timestamp: OffsetDateTime::from(h.timestamp),
                old_state: h.old_state,
                new_state: h.new_state,
                reason: h.reason.clone(),
            })
            .collect(),
    ))
}

async fn logs(State(state): Lab, Path(key): Path<String>, RawQuery(raw): RawQuery) -> Reply<Vec<LogEvent>> {
    let q = LogQuery::from_query(&query(raw)).map_err(bad)?;
    let store_query = crate::logs::LogQuery {
        filter: q.filter,
        since_ms: q
            .since_s
            .map(|secs| crate::runtime::env::epoch_ms() - (secs as i64) * 1000),
        limit: q.limit,
    };
    let events = state
        .logs
        .query(&key, &store_query)
        .ok_or_else(|| unknown_function(&key))?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| LogEvent {
                timestamp: e.timestamp,
                log_group: e.log_group.to_string(),
                log_stream: e.log_stream.to_string(),
                message: e.message,
            })
            .collect(),
    ))
}

async fn changes(State(state): Lab) -> Json<Vec<lab_admin_api::ChangeEvent>> {
    Json(state.changes.all())
}

async fn notifications(State(state): Lab) -> Json<Vec<lab_admin_api::Notification>> {
    Json(state.outbox.all())
}

/// The game day of this lab: 404 when none runs here.
fn desk(state: &LabState) -> Result<&Arc<crate::gameday::desk::Desk>, ApiError> {
    state.gameday.get().ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            format!(
                "no game day runs on this lab (stage {}): start one with `outage-lab gameday --stage {}`",
                state.stage.stage, state.stage.stage
            ),
        )
    })
}

fn desk_reply(
    r: Result<lab_admin_api::GameDayReply, crate::gameday::desk::DeskError>,
) -> Reply<lab_admin_api::GameDayReply> {
    use crate::gameday::desk::DeskError;
    r.map(Json).map_err(|e| match e {
        DeskError::Invalid(m) => bad(m),
        e @ DeskError::Ended(_) => ApiError(StatusCode::CONFLICT, e.to_string()),
    })
}

async fn gameday(State(state): Lab) -> Reply<lab_admin_api::GameDayView> {
    Ok(Json(desk(&state)?.view()))
}

async fn gameday_ack(State(state): Lab) -> Reply<lab_admin_api::GameDayReply> {
    desk_reply(desk(&state)?.acknowledge())
}

async fn gameday_diagnosis(State(state): Lab, body: Body) -> Reply<lab_admin_api::GameDayReply> {
    let d: lab_admin_api::Diagnosis = body_of(body).await?;
    desk_reply(desk(&state)?.diagnose(&d))
}

async fn gameday_hint(State(state): Lab) -> Reply<lab_admin_api::GameDayReply> {
    desk_reply(desk(&state)?.hint(true))
}

async fn gameday_give_up(State(state): Lab) -> Reply<lab_admin_api::GameDayReply> {
    desk_reply(desk(&state)?.give_up())
}

async fn get_drill(State(state): Lab) -> Json<DrillDocument> {
    Json(state.drill.lock().expect("drill lock").clone())
}

async fn put_drill(State(state): Lab, body: Body) -> Reply<DrillDocument> {
    let doc: DrillDocument = body_of(body).await?;
    *state.drill.lock().expect("drill lock") = doc.clone();
    Ok(Json(doc))
}

async fn stats(State(state): Lab, RawQuery(raw): RawQuery) -> Json<Stats> {
    let reset = query(raw).get("reset").is_some_and(|v| v == "true");
    Json(Stats {
        overhead: state.overhead.summary(reset),
        metric_store: {
            let s = state.metrics.store().stats();
            lab_admin_api::MetricStoreStats {
                series: s.series,
                buckets: s.buckets,
                stored_values: s.stored_values,
                dropped_samples: s.dropped_samples,
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::runbook_href;

    #[test]
    fn runbooks_the_lab_serves_open_from_the_lab_and_published_ones_stay() {
        let admin = "http://127.0.0.1:3001";
        assert_eq!(
            runbook_href(admin, "docs/runbooks/fast-errors.md"),
            "http://127.0.0.1:3001/runbooks/fast-errors.md"
        );
        assert_eq!(
            runbook_href(admin, "docs/runbooks/README.md"),
            "http://127.0.0.1:3001/runbooks/README.md"
        );
        let published = "https://github.com/o/r/blob/main/docs/runbooks/errors.md";
        assert_eq!(runbook_href(admin, published), published);
        assert_eq!(
            runbook_href(admin, "docs/runbooks/nope.md"),
            "docs/runbooks/nope.md"
        );
    }
}
