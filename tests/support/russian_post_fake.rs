//! A stand-in for the Russian Post tracking service (SOAP 1.2 `getOperationHistory` at
//! `/rtm34`) on 127.0.0.1, for tests. It checks the `AuthorizationHeader` login and password
//! (a SOAP fault «Ошибка авторизации» otherwise), reads the `Barcode`, `MessageType` and
//! `Language`, and answers with the `historyRecord`s set for the barcode, in the service's
//! documented shape (prefixed namespaces, `OperationParameters/OperType/Id`, `OperAttr/Id`).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use tokio::task::JoinHandle;

pub const LOGIN: &str = "uchmetTrack";
pub const PASSWORD: &str = "s3cret-pa55";

/// An operation on a letter: OperType id and name, OperAttr id and name.
#[derive(Debug, Clone)]
pub struct Op(pub u32, pub &'static str, pub u32, pub &'static str);

pub const ACCEPTED: Op = Op(1, "Прием", 1, "Единичный");
pub const ARRIVED: Op = Op(8, "Обработка", 2, "Прибыло в место вручения");
pub const DELIVERED: Op = Op(2, "Вручение", 1, "Вручение адресату");

#[derive(Debug, Clone)]
pub struct Request {
    pub content_type: String,
    pub body: String,
}

impl Request {
    /// The text of the first element with this local name.
    pub fn field(&self, local: &str) -> Option<String> {
        let start = self.body.find(&format!(":{local}>"))? + local.len() + 2;
        let end = self.body[start..].find('<')? + start;
        Some(self.body[start..end].to_owned())
    }
}

#[derive(Default)]
struct FakeState {
    histories: BTreeMap<String, Vec<Op>>,
    requests: Vec<Request>,
}

pub struct RussianPostFake {
    url: String,
    state: Arc<Mutex<FakeState>>,
    task: JoinHandle<()>,
}

impl Drop for RussianPostFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn fault(reason: &str) -> String {
    format!(
        r#"<?xml version='1.0' encoding='UTF-8'?><S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Body><S:Fault><S:Code><S:Value>S:Receiver</S:Value></S:Code><S:Reason><S:Text xml:lang="ru">{reason}</S:Text></S:Reason></S:Fault></S:Body></S:Envelope>"#
    )
}

fn answer(ops: &[Op]) -> String {
    let records: String = ops
        .iter()
        .enumerate()
        .map(|(i, Op(t, tn, a, an))| {
            format!(
                "<ns3:historyRecord><ns3:AddressParameters><ns3:OperationAddress>\
                 <ns3:Index>62001{i}</ns3:Index><ns3:Description>Екатеринбург</ns3:Description>\
                 </ns3:OperationAddress></ns3:AddressParameters><ns3:OperationParameters>\
                 <ns3:OperType><ns3:Id>{t}</ns3:Id><ns3:Name>{tn}</ns3:Name></ns3:OperType>\
                 <ns3:OperAttr><ns3:Id>{a}</ns3:Id><ns3:Name>{an}</ns3:Name></ns3:OperAttr>\
                 <ns3:OperDate>2027-02-2{i}T10:00:00.000+03:00</ns3:OperDate>\
                 </ns3:OperationParameters></ns3:historyRecord>"
            )
        })
        .collect();
    format!(
        r#"<?xml version='1.0' encoding='UTF-8'?><S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Body><ns7:getOperationHistoryResponse xmlns:ns2="http://russianpost.org/operationhistory/data" xmlns:ns3="http://russianpost.org/operationhistory/data" xmlns:ns7="http://russianpost.org/operationhistory"><ns3:OperationHistoryData>{records}</ns3:OperationHistoryData></ns7:getOperationHistoryResponse></S:Body></S:Envelope>"#
    )
}

async fn handle(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let request = Request {
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body,
    };
    let mut s = state.lock().unwrap();
    s.requests.push(request.clone());
    let xml = |status: StatusCode, body: String| {
        (
            status,
            [(header::CONTENT_TYPE, "application/soap+xml; charset=utf-8")],
            body,
        )
    };
    if request.field("login").as_deref() != Some(LOGIN)
        || request.field("password").as_deref() != Some(PASSWORD)
    {
        return xml(
            StatusCode::INTERNAL_SERVER_ERROR,
            fault("Ошибка авторизации"),
        );
    }
    let barcode = request.field("Barcode").unwrap_or_default();
    match s.histories.get(&barcode) {
        Some(ops) => xml(StatusCode::OK, answer(ops)),
        None => xml(
            StatusCode::INTERNAL_SERVER_ERROR,
            fault("Отправление не найдено"),
        ),
    }
}

impl RussianPostFake {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let router = Router::new()
            .route("/rtm34", post(handle))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/rtm34", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { url, state, task }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn set_history(&self, barcode: &str, ops: Vec<Op>) {
        self.state
            .lock()
            .unwrap()
            .histories
            .insert(barcode.to_owned(), ops);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }
}
