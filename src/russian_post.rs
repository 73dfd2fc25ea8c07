//! Russian Post tracking, single-access API: SOAP 1.2 `getOperationHistory` at
//! `https://tracking.russianpost.ru/rtm34` with an `OperationHistoryRequest` (`Barcode`,
//! `MessageType` 0, `Language` RUS) and an `AuthorizationHeader` (`login`, `password`). The
//! answer lists `historyRecord`s; each has `OperationParameters` with `OperType/Id` and
//! `OperAttr/Id`. What the bot tells learners: OperType 8 «Обработка» with OperAttr 2
//! «Прибыло в место вручения» — the letter is at the post office; OperType 2 «Вручение» — it
//! was handed over.
//!
//! The answer is read with a small tag scanner (by local names, whatever the namespace
//! prefixes), which is all this fixed, flat format needs.
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// OperType «Вручение».
pub const OPER_DELIVERED: u32 = 2;
/// OperType «Обработка»…
pub const OPER_PROCESSING: u32 = 8;
/// …with OperAttr «Прибыло в место вручения».
pub const ATTR_ARRIVED: u32 = 2;

const ATTEMPTS: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub oper_type: Option<u32>,
    pub oper_attr: Option<u32>,
    pub date: Option<String>,
}

/// Where a letter is, as far as learners care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostStatus {
    OnTheWay,
    /// At the post office, waiting to be collected.
    Arrived,
    Delivered,
}

pub fn status(history: &[Operation]) -> PostStatus {
    if history.iter().any(|o| o.oper_type == Some(OPER_DELIVERED)) {
        PostStatus::Delivered
    } else if history
        .iter()
        .any(|o| o.oper_type == Some(OPER_PROCESSING) && o.oper_attr == Some(ATTR_ARRIVED))
    {
        PostStatus::Arrived
    } else {
        PostStatus::OnTheWay
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// Network trouble or a 5xx: worth trying again later.
    #[error("Russian Post unreachable: {0}")]
    Unavailable(String),
    /// A SOAP fault (wrong login, unknown barcode, limits).
    #[error("Russian Post refused: {0}")]
    Fault(String),
    #[error("Russian Post answer unreadable: {0}")]
    Unreadable(String),
}

pub struct PostParams {
    pub api_url: url::Url,
    pub login: String,
    pub password: SecretString,
    pub timeout: Duration,
}

pub struct RussianPost {
    http: reqwest::Client,
    url: url::Url,
    login: String,
    password: SecretString,
}

impl std::fmt::Debug for RussianPost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RussianPost")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The SOAP 1.2 envelope of `getOperationHistory` for one barcode.
pub fn request_body(barcode: &str, login: &str, password: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:oper="http://russianpost.org/operationhistory" xmlns:data="http://russianpost.org/operationhistory/data">
<soap:Header/>
<soap:Body>
<oper:getOperationHistory>
<data:OperationHistoryRequest>
<data:Barcode>{}</data:Barcode>
<data:MessageType>0</data:MessageType>
<data:Language>RUS</data:Language>
</data:OperationHistoryRequest>
<data:AuthorizationHeader soap:mustUnderstand="1">
<data:login>{}</data:login>
<data:password>{}</data:password>
</data:AuthorizationHeader>
</oper:getOperationHistory>
</soap:Body>
</soap:Envelope>"#,
        escape(barcode),
        escape(login),
        escape(password)
    )
}

/// The history in an answer, or the SOAP fault it carries.
pub fn parse_history(xml: &str) -> Result<Vec<Operation>, PostError> {
    let mut records = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut fault: Option<String> = None;
    let mut in_fault = false;
    let mut rest = xml;
    let mut text = String::new();
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            return Err(PostError::Unreadable("unclosed tag".into()));
        };
        let tag = &after[..close];
        rest = &after[close + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        let local = |name: &str| {
            let name = name.split_whitespace().next().unwrap_or("");
            name.rsplit(':').next().unwrap_or(name).to_owned()
        };
        if let Some(end) = tag.strip_prefix('/') {
            let name = local(end);
            let value = unescape(text.trim());
            let parent = stack.len().checked_sub(2).map(|i| stack[i].as_str());
            match (parent, name.as_str()) {
                (Some("OperType"), "Id") => {
                    if let Some(r) = records.last_mut() {
                        let r: &mut Operation = r;
                        r.oper_type = value.parse().ok();
                    }
                }
                (Some("OperAttr"), "Id") => {
                    if let Some(r) = records.last_mut() {
                        let r: &mut Operation = r;
                        r.oper_attr = value.parse().ok();
                    }
                }
                (_, "OperDate") => {
                    if let Some(r) = records.last_mut() {
                        let r: &mut Operation = r;
                        r.date = Some(value.clone());
                    }
                }
                (_, "Text" | "faultstring" | "Reason")
                    if in_fault
                        && !value.is_empty()
                        && fault.as_deref().is_none_or(str::is_empty) =>
                {
                    fault = Some(value.clone());
                }
                _ => {}
            }
            if name == "Fault" {
                in_fault = false;
            }
            stack.pop();
            text.clear();
            continue;
        }
        let self_closing = tag.ends_with('/');
        let name = local(tag.trim_end_matches('/'));
        if name == "historyRecord" {
            records.push(Operation {
                oper_type: None,
                oper_attr: None,
                date: None,
            });
        }
        if name == "Fault" {
            in_fault = true;
            fault.get_or_insert_with(String::new);
        }
        if !self_closing {
            stack.push(name);
        }
        text.clear();
    }
    match fault {
        Some(f) => Err(PostError::Fault(if f.is_empty() {
            "SOAP fault".into()
        } else {
            f
        })),
        None => Ok(records),
    }
}

impl RussianPost {
    pub fn new(params: PostParams) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder().timeout(params.timeout).build()?,
            url: params.api_url,
            login: params.login,
            password: params.password,
        })
    }

    /// The operations on a letter; network trouble and 5xx are tried again (a read is safe
    /// to repeat) with a growing pause.
    pub async fn history(&self, barcode: &str) -> Result<Vec<Operation>, PostError> {
        let body = request_body(barcode, &self.login, self.password.expose_secret());
        let mut delay = Duration::from_millis(500);
        let mut last = PostError::Unavailable("not tried".into());
        for attempt in 1..=ATTEMPTS {
            match self.once(&body).await {
                Err(PostError::Unavailable(why)) => {
                    tracing::warn!(attempt, error = %why, "Russian Post: will retry");
                    last = PostError::Unavailable(why);
                    if attempt < ATTEMPTS {
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
                other => return other,
            }
        }
        Err(last)
    }

    async fn once(&self, body: &str) -> Result<Vec<Operation>, PostError> {
        let response = self
            .http
            .post(self.url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/soap+xml; charset=utf-8",
            )
            .body(body.to_owned())
            .send()
            .await
            .map_err(|e| PostError::Unavailable(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| PostError::Unavailable(e.to_string()))?;
        if status.is_server_error() && !text.contains("Fault>") {
            return Err(PostError::Unavailable(format!("HTTP {status}")));
        }
        parse_history(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope">
<S:Body>
<ns7:getOperationHistoryResponse xmlns:ns3="http://russianpost.org/operationhistory/data" xmlns:ns7="http://russianpost.org/operationhistory">
<ns3:OperationHistoryData>
<ns3:historyRecord>
<ns3:AddressParameters><ns3:OperationAddress><ns3:Index>101000</ns3:Index></ns3:OperationAddress></ns3:AddressParameters>
<ns3:OperationParameters>
<ns3:OperType><ns3:Id>1</ns3:Id><ns3:Name>Прием</ns3:Name></ns3:OperType>
<ns3:OperAttr><ns3:Id>1</ns3:Id><ns3:Name>Единичный</ns3:Name></ns3:OperAttr>
<ns3:OperDate>2027-02-20T14:50:00.000+03:00</ns3:OperDate>
</ns3:OperationParameters>
</ns3:historyRecord>
<ns3:historyRecord>
<ns3:OperationParameters>
<ns3:OperType><ns3:Id>8</ns3:Id><ns3:Name>Обработка</ns3:Name></ns3:OperType>
<ns3:OperAttr><ns3:Id>2</ns3:Id><ns3:Name>Прибыло в место вручения</ns3:Name></ns3:OperAttr>
<ns3:OperDate>2027-02-23T09:10:00.000+05:00</ns3:OperDate>
</ns3:OperationParameters>
</ns3:historyRecord>
</ns3:OperationHistoryData>
</ns7:getOperationHistoryResponse>
</S:Body>
</S:Envelope>"#;

    #[test]
    fn the_history_is_read_whatever_the_prefixes() {
        let history = parse_history(ANSWER).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].oper_type, Some(1));
        assert_eq!(history[1].oper_type, Some(8));
        assert_eq!(history[1].oper_attr, Some(2));
        assert_eq!(
            history[1].date.as_deref(),
            Some("2027-02-23T09:10:00.000+05:00")
        );
        assert_eq!(status(&history), PostStatus::Arrived);
        assert_eq!(status(&history[..1]), PostStatus::OnTheWay);
        let delivered = ANSWER.replace("<ns3:Id>8</ns3:Id>", "<ns3:Id>2</ns3:Id>");
        assert_eq!(
            status(&parse_history(&delivered).unwrap()),
            PostStatus::Delivered
        );
    }

    #[test]
    fn a_fault_is_an_error_with_its_reason() {
        let fault = r#"<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Body>
<S:Fault><S:Code><S:Value>S:Receiver</S:Value></S:Code>
<S:Reason><S:Text xml:lang="ru">Ошибка авторизации</S:Text></S:Reason></S:Fault></S:Body></S:Envelope>"#;
        match parse_history(fault) {
            Err(PostError::Fault(why)) => assert_eq!(why, "Ошибка авторизации"),
            other => panic!("{other:?}"),
        }
        assert!(parse_history("<a><b").is_err());
    }

    #[test]
    fn the_request_names_the_barcode_and_escapes_credentials() {
        let body = request_body("RA123456785RU", "shop&co", "p<ss");
        assert!(body.contains("<data:Barcode>RA123456785RU</data:Barcode>"));
        assert!(body.contains("<data:MessageType>0</data:MessageType>"));
        assert!(body.contains("<data:Language>RUS</data:Language>"));
        assert!(body.contains("<data:login>shop&amp;co</data:login>"));
        assert!(body.contains("<data:password>p&lt;ss</data:password>"));
    }
}
