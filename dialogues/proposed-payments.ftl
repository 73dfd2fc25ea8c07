# Proposed by the payments helper: texts for the typed errors of payments::yookassa and
# webinar::mts_link. Ids are suggestions; the lead owns the final names.

# PaymentError::Unavailable — YooKassa did not answer; the same order can be retried safely.
payment-unavailable =
    Платёжный сервис сейчас не отвечает. Попробуйте, пожалуйста, через несколько минут —
    повторная попытка не приведёт к двойной оплате.

# PaymentError::Rejected / Unauthorized / InvalidResponse — our side is at fault; staff are alerted.
payment-failed =
    Не удалось сформировать ссылку на оплату. Мы уже разбираемся; менеджер свяжется с вами
    в ближайшее время.

# PaymentError::InvalidInput caused by the learner's email (receipts under 54-ФЗ go there).
payment-email-invalid =
    Для электронного чека нужен адрес электронной почты. Пожалуйста, проверьте адрес: { $email }

# Payment read back as canceled (Cancellation.reason = expired_on_confirmation).
payment-expired =
    Время на оплату истекло, платёж отменён. Если вы хотите продолжить, я подготовлю новую ссылку.

# Payment read back as canceled for another reason (declined by the bank, etc.).
payment-canceled =
    Платёж не прошёл. Деньги не списаны. Можно попробовать ещё раз или выбрать другую карту.

# WebinarError (any) — the learner gets the group's general room instead of a personal link.
webinar-general-link =
    Ссылка на вебинар «{ $topic }» ({ $starts_at }): { $url }
    При входе укажите, пожалуйста, ваши фамилию и имя.
