### Тексты uchbot. Формат Fluent: https://projectfluent.org/
### Тексты для Telegram размечены HTML (<b>, <i>, <a>); подставляемые значения экранируются кодом.
### Каждый вариант select — на своей строке.

## Общие формы

hours = { $count } { $count ->
    [one] час
    [few] часа
   *[many] часов
}
date-long = { $day } { $month ->
    [1] января
    [2] февраля
    [3] марта
    [4] апреля
    [5] мая
    [6] июня
    [7] июля
    [8] августа
    [9] сентября
    [10] октября
    [11] ноября
   *[12] декабря
} { $year } г.
date-range = с { $from } по { $to }
button-outdated = Эта кнопка устарела. Откройте /status — там всё актуально.
staff-only = Эта кнопка — для сотрудников учебного центра.
unsupported-message = К сожалению, такие сообщения я не умею читать. Напишите текстом или воспользуйтесь кнопками меню.
not-understood = Я не совсем понял сообщение. Выберите действие в меню ниже или наберите /help — там список того, что я умею.
cancel-done = Хорошо, остановились. Всё, что вы уже ввели, сохранено — продолжить можно в любой момент через /status.
cancel-nothing = Сейчас нечего отменять. Что делать дальше, подскажет /status.

## Меню

menu-catalog = 📚 Каталог курсов
menu-status = 📋 Мои курсы
menu-help = ❓ Помощь
command-start = Начать
command-catalog = Каталог курсов
command-status = Где я сейчас и что дальше
command-help = Помощь и контакты
command-cancel = Отменить текущий шаг
command-mydata = Мои персональные данные (файл)
command-forget = Отозвать согласие и удалить данные

## Регистрация и согласие

welcome =
    Здравствуйте! Я помощник учебного центра { $school }.

    Помогу выбрать курс повышения квалификации, переподготовки или профессионального обучения, оформить договор и оплату, собрать документы для зачисления, напомню о вебинарах, проведу итоговую аттестацию и сообщу, когда документ о квалификации отправят вам по почте.
welcome-back = С возвращением, { $name }!
consent-request =
    Прежде чем мы попросим у вас какие-либо личные данные, нужно ваше согласие на их обработку по Федеральному закону № 152-ФЗ «О персональных данных».

    { $school } обрабатывает ФИО, дату рождения, СНИЛС, контакты, адрес и сканы документов только для обучения и выдачи документа о квалификации. Подробнее — в <a href="{ $policy }">политике обработки персональных данных</a>.

    Вы согласны на обработку персональных данных?
consent-needed = Чтобы записаться на курс, нужно согласие на обработку персональных данных.
consent-given = ✅ Спасибо, согласие на обработку персональных данных получено.
consent-refused = Вы отказались от обработки персональных данных. Мы это записали.
consent-refused-reminder = Без согласия мы не можем зачислить вас на обучение, но каталог курсов открыт — смотрите сколько угодно. Передумаете — нажмите «Дать согласие».
email-ask = Напишите, пожалуйста, ваш адрес электронной почты. На него придут код подтверждения, договор и документы по курсу.
email-needed = Для записи на курс нужен подтверждённый адрес электронной почты.
email-already-yours = Этот адрес уже подтверждён.
code-sent = Отправили письмо с 6-значным кодом на <b>{ $email }</b>. Введите код здесь. Код действует { $minutes } минут. Если письма нет, загляните в «Спам».
code-resend-wait = Новый код можно будет запросить через { $seconds } сек. Пока проверьте, пожалуйста, папку «Спам».
code-too-many-sends = Мы уже несколько раз отправляли код на этот адрес. Проверьте правильность адреса или напишите нам на { $school_email } — поможем.
code-format = Код — это 6 цифр из письма. Введите их, пожалуйста, одним сообщением.
code-none = Для этого адреса нет действующего кода. Нажмите «Отправить код ещё раз».
code-expired = Срок действия кода истёк. Нажмите «Отправить код ещё раз» — пришлём новый.
code-no-attempts = Попытки ввода этого кода закончились. Запросите, пожалуйста, новый код.
code-wrong = Код не подошёл. { $left ->
    [one] Осталась { $left } попытка.
    [few] Осталось { $left } попытки.
   *[many] Осталось { $left } попыток.
}
email-confirmed = ✅ Адрес <b>{ $email }</b> подтверждён. Теперь письма, которые вы отправите с него на почту учебного центра, попадут в ваше личное дело.
email-taken = Адрес { $email } уже привязан к другому аккаунту Telegram. Если это ваш адрес, напишите нам на { $school_email } — разберёмся. Или укажите другой адрес.
registered-next = Всё готово к записи. Выберите курс в каталоге.

## Кнопки

btn-catalog = 📚 Каталог курсов
btn-give-consent = Дать согласие
btn-privacy-policy = Политика обработки данных
btn-consent-yes = ✅ Согласен
btn-consent-no = Не согласен
btn-resend-code = Отправить код ещё раз
btn-change-email = Изменить адрес
btn-status = 📋 Мои курсы
btn-back = ← Назад
btn-back-sections = ← К разделам
btn-prev = ← Предыдущие
btn-next = Следующие →
btn-enroll = Записаться
btn-enroll-group = Записаться: { $dates }
btn-enrolled-group = ✓ Вы записаны: { $dates }
btn-offer-read = 📄 Прочитать договор-оферту
btn-offer-accept = ✅ Принимаю условия оферты
btn-pay = 💳 Оплатить { $amount }
btn-pay-now = 💳 Оплатить
btn-pay-demo = 💳 Оплатить { $amount } (демо)
btn-check-payment = Я оплатил — проверить
btn-payment-new-link = Получить новую ссылку на оплату
btn-payment-retry = Попробовать ещё раз
btn-fill-form = 📝 Заполнить заявление
btn-keep = Оставить: { $value }
btn-no-patronymic = Отчества нет
btn-diploma-same = Совпадает с текущими ФИО
btn-form-ok = ✅ Всё верно
btn-form-edit = ✏️ Исправить
btn-docs = 📎 Документы
btn-docs-next = Готово, дальше →
btn-docs-for = Документы: { $title }
btn-doc-add = ➕ { $kind }
btn-doc-replace = 🔄 Заменить: { $kind }
btn-doc-resend = Отправить заново: { $kind }
btn-submit = ✅ Отправить на проверку

## Каталог

program-qualification = Повышение квалификации
program-retraining = Профессиональная переподготовка
program-vocational = Профессиональное обучение
document-certificate = удостоверение о повышении квалификации
document-diploma = диплом о профессиональной переподготовке
document-svidetelstvo = свидетельство о профессии рабочего, должности служащего
catalog-sections = <b>Каталог курсов</b>. Все курсы проходят онлайн, в формате вебинаров. Выберите раздел:
catalog-section-button = { $section } ({ $count })
catalog-section = <b>{ $section }</b>{ $pages ->
    [1] {""}
   *[other] , страница { $page } из { $pages }
}. Выберите курс:
catalog-course-button = { $title } · { $hours }
course-card =
    <b>{ $title }</b>

    { $program } · { $hours }
    Стоимость: <b>{ $price }</b>
    Формат: { $format }
    Документ: { $document }
    { $next }

    { $description }
course-next-group = Ближайшая группа: { $dates }
course-no-group = Набор в новые группы скоро откроется.
course-unknown = Такого курса сейчас нет в каталоге. Возможно, набор закрыт — посмотрите другие курсы.
deep-link-unknown = Не нашёл курс по этой ссылке — возможно, она устарела. Вот каталог, выберите, пожалуйста, курс в нём.
group-closed = Обучение в этой группе уже закончилось. Выберите, пожалуйста, другую группу.
already-enrolled = Вы уже записаны на курс «{ $title }».

## Договор-оферта

offer =
    <b>{ $offer }</b> (редакция { $version })

    Курс: «{ $title }»
    Обучение: { $dates }
    Стоимость: { $price }

    Пожалуйста, прочитайте договор. Нажимая «Принимаю условия оферты», вы заключаете с { $school } договор об оказании платных образовательных услуг на этих условиях.
offer-missing = Договор для этого курса ещё не опубликован. Напишите нам на { $school_email }, и мы запишем вас вручную.
offer-accepted-toast = Оферта принята
offer-accepted = ✅ Вы приняли условия: { $offer }. Курс «{ $title }». Готовим ссылку на оплату…

## Оплата

payment-link = Заказ № { $order }: «{ $title }», { $amount }. Оплатить можно картой или через СБП по кнопке ниже. Чек придёт на вашу почту.
payment-transfer =
    Заказ № { $order } на сумму { $amount }. Оплатить можно банковским переводом по реквизитам:

    { $details }

    В назначении платежа укажите, пожалуйста, «Оплата по заказу № { $order }». Как только оплата поступит, мы сообщим вам здесь. Вопросы — { $school_email }.
payment-demo = 🧪 <b>Демо-режим.</b> Заказ № { $order } на сумму { $amount }. Настоящие деньги не списываются: нажмите кнопку, чтобы сымитировать успешную оплату.
payment-unavailable = Платёжный сервис сейчас не отвечает. Мы уже сообщили об этом сотрудникам. Попробуйте, пожалуйста, через несколько минут.
payment-still-pending = Оплата пока не поступила. Если вы уже оплатили, подождите пару минут — банк иногда задерживает подтверждение. Мы напишем сами, как только деньги придут.
payment-checking = Проверяем оплату…
payment-already-paid = Оплата уже получена
payment-received = ✅ Оплата { $amount } за курс «{ $title }» получена. Спасибо!
payment-next-form = Следующий шаг — «Заявление на зачисление» на курс «{ $title }». Это займёт около 5 минут.
payment-canceled = Платёж за курс «{ $title }» не прошёл или был отменён. Деньги не списаны. Можно получить новую ссылку и попробовать ещё раз.

## Заявление на зачисление

form-intro = Заполним «Заявление на зачисление». Я задам 10 вопросов по одному. Прервать можно в любой момент командой /cancel — ответы сохранятся.
form-question = <i>Вопрос { $step } из { $total }</i>
    { $question }
form-ask-surname = Ваша <b>фамилия</b> — как в паспорте.
form-ask-name = Ваше <b>имя</b>.
form-ask-patronymic = Ваше <b>отчество</b>. Если отчества нет, нажмите кнопку.
form-ask-birth-date = <b>Дата рождения</b> в формате ДД.ММ.ГГГГ, например 07.03.1985.
form-ask-snils = Номер <b>СНИЛС</b> — 11 цифр, например 112-233-445 95. Он нужен для записи документа в федеральный реестр (ФИС ФРДО).
form-ask-phone = <b>Телефон</b> для связи, например +7 912 345-67-89.
form-ask-email = <b>Электронная почта</b> для документов по курсу.
form-ask-education = Ваш <b>уровень образования</b>:
form-ask-diploma-name = <b>ФИО в документе об образовании</b> совпадает с текущими? Если документ выдан на другую фамилию, напишите ФИО так, как в дипломе, — тогда понадобится ещё документ о смене фамилии.
form-ask-address = <b>Почтовый адрес</b> с индексом — на него Почтой России придёт заказное письмо с документом о квалификации. Например: 620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12.
field-surname = Фамилия
field-name = Имя
field-patronymic = Отчество
field-birth-date = Дата рождения
field-snils = СНИЛС
field-phone = Телефон
field-email = Эл. почта
field-education = Образование
field-diploma-name = ФИО в дипломе
field-address = Почтовый адрес
field-none = нет
field-diploma-same = совпадает
form-summary-line = { $label }: <b>{ $value }</b>
form-summary =
    Проверьте, пожалуйста, заявление:

    { $lines }
form-edit-which = Что исправить?
form-saved = ✅ Заявление сохранено.
form-not-paid = Заявление заполняется после оплаты курса.
form-locked = Заявление уже отправлено на проверку, изменить его можно только через сотрудника учебного центра.

## Документы

doc-passport = Паспорт
doc-education = Документ об образовании
doc-name-change = Документ о смене фамилии
docs-ask-passport = Пришлите, пожалуйста, <b>скан или фото паспорта</b>: разворот с фотографией и страницу с регистрацией. Можно несколькими файлами.
docs-ask-education = Теперь <b>документ об образовании</b>: диплом вместе с приложением (или справку об обучении, если вы студент).
docs-ask-name-change = И <b>документ о смене фамилии</b> — свидетельство о браке или о перемене имени, так как ФИО в дипломе отличаются от текущих.
docs-ask-again = Пришлите, пожалуйста, заново: <b>{ $kind }</b>. Причина: { $reason }
docs-how = Подойдут PDF, JPG, PNG или HEIC до { $limit } МБ; фото — обычным сообщением. Можно вместо этого отправить сканы на { $school_email } с того адреса, что вы подтвердили.
docs-waiting = Жду файл: { $kind }. Когда все страницы отправлены, нажмите «Готово, дальше».
docs-unexpected = Файл получил, но пока не знаю, к какому курсу его отнести. Откройте документы нужного курса и пришлите файл ещё раз.
doc-stored = 📎 Принято: { $kind } — «{ $file }». Если страниц несколько, пришлите остальные, затем нажмите «Готово, дальше».
doc-duplicate = Этот файл («{ $file }») уже есть в разделе «{ $kind }» — второй раз сохранять не стал.
docs-line = { $kind }: { $files }
docs-complete =
    Все документы на месте:

    { $lines }

    Если всё верно, отправьте их на проверку.
docs-form-first = Сначала, пожалуйста, заполните заявление на зачисление.
docs-under-review = Документы уже у сотрудников на проверке — мы сообщим результат.
docs-submitted = 📨 Документы отправлены на проверку.
docs-resubmitted = Спасибо! Исправленные документы отправлены на повторную проверку — мы сообщим результат.
file-too-large = Файл слишком большой: принимаю до { $limit } МБ. Сожмите, пожалуйста, скан или отправьте страницы по отдельности.
file-bad-type = Этот формат не подходит. Пришлите, пожалуйста, PDF, JPG, PNG или HEIC — или просто фото документа.
file-empty = Файл пустой. Попробуйте, пожалуйста, отправить его ещё раз.
file-download-failed = Не получилось загрузить файл. Пожалуйста, отправьте его ещё раз.
enrolled =
    🎓 Вы зачислены в группу «{ $group }» курса «{ $title }», обучение { $dates }

    Документы переданы сотрудникам на проверку — результат придёт сюда. Дальше:
    • расписание занятий — в разделе «Мои курсы»;
    • за 1,5 часа до каждого вебинара пришлю ссылку для входа (она работает только во время занятия);
    • после занятия — материалы и запись;
    • в конце курса — итоговая аттестация в форме теста.
review-accepted = ✅ Документы по курсу «{ $title }» проверены и приняты. Ваше личное дело полностью оформлено.
review-returned = ⚠️ Сотрудник вернул документ «{ $kind }» («{ $file }»). Причина: { $reason }. Пришлите, пожалуйста, исправленный файл — без него мы не сможем выдать документ о квалификации.

## Статус

status = <b>Ваши курсы</b>

    { $courses }
status-course = <b>{ $title }</b> ({ $dates })
    { $stage }
status-course-withdrawn = Курс снят с расписания. Напишите нам, пожалуйста, — поможем.
stage-awaiting-payment = Ждём оплату. Следующий шаг — оплата заказа.
stage-application = Оплачено. Следующий шаг — заявление на зачисление.
stage-documents = Заявление заполнено. { $count ->
    [0] Осталось отправить документы на проверку.
   *[other] Осталось прислать: { $missing }.
}
stage-returned = Документ возвращён: { $note }. Пришлите исправленный файл.
stage-under-review = Вы зачислены. Документы на проверке у сотрудников.
stage-accepted = Вы зачислены, документы приняты.
status-no-consent = Вы ещё не дали согласие на обработку персональных данных — без него записаться на курс нельзя. Каталог открыт и без согласия.
status-no-email = Осталось подтвердить адрес электронной почты — напишите его сюда.
status-no-courses = Вы пока не записаны ни на один курс. Выберите курс в каталоге.
help =
    <b>Что я умею</b>
    /catalog — каталог курсов и запись
    /status — ваши курсы: на каком вы шаге и что дальше
    /schedule — расписание занятий и ссылки на вебинары
    /materials — материалы и записи прошедших занятий
    /test — итоговая аттестация: тест по курсу
    /cancel — прервать текущий вопрос (введённое сохранится)
    /help — эта справка
    /mydata — файл со всеми данными, которые мы о вас храним
    /forget — отозвать согласие на обработку персональных данных

    Документы можно присылать сюда или на почту { $school_email } с подтверждённого адреса.
    Если что-то пошло не так — напишите нам: { $school_email }, { $school_phone }.

## Проверка введённых данных (ValidationError)

## Email

invalid-email-empty = Пришлите, пожалуйста, адрес электронной почты, например: ivanova@mail.ru

invalid-email-spaces = В адресе почты не должно быть пробелов. Проверьте, пожалуйста, и пришлите адрес ещё раз, например: ivanova@mail.ru

invalid-email-missing-at = В адресе почты не хватает знака @. Пришлите, пожалуйста, адрес целиком, например: ivanova@mail.ru

invalid-email-several-at = Знак @ в адресе почты должен быть один, а здесь их несколько. Проверьте, пожалуйста, адрес, например: ivanova@mail.ru

invalid-email-local-not-latin = Часть адреса до знака @ пишется латинскими буквами, а здесь есть русские — так бывает, когда не переключилась раскладка. Пришлите, пожалуйста, адрес ещё раз, например: ivanova@mail.ru

invalid-email-local-part = Часть адреса до знака @ записана с ошибкой: в ней бывают латинские буквы, цифры, точка, дефис и подчёркивание, а точка не ставится в начале, в конце и два раза подряд. Пример: ivanova.m@mail.ru

invalid-email-domain = Часть адреса после знака @ записана с ошибкой: там должно быть имя почтового сервиса с точкой, например mail.ru, yandex.ru или gmail.com. Проверьте, пожалуйста, адрес.

invalid-email-too-long = Адрес почты слишком длинный: в нём может быть не больше { $max } знаков. Пришлите, пожалуйста, другой адрес.

## Names

invalid-name-empty = Напишите, пожалуйста, как в паспорте, например: Иванова

invalid-name-too-long = Получилось слишком длинно — не больше { $max } знаков. Напишите, пожалуйста, только эту часть ФИО, как в паспорте.

invalid-name-character = В фамилии, имени и отчестве не бывает знака «{ $character }». Напишите, пожалуйста, только буквами (можно с дефисом), как в паспорте, например: Иванова-Петрова

invalid-name-mixed-alphabets = В слове смешались русские и латинские буквы — так бывает, когда переключается раскладка. Напишите, пожалуйста, русскими буквами, как в паспорте, например: Иванова

invalid-name-punctuation = Дефис и апостроф ставятся только между буквами, например: Иванова-Петрова. Проверьте, пожалуйста, и пришлите ещё раз.

invalid-full-name-word-count =
    Напишите, пожалуйста, фамилию, имя и отчество (если оно есть) через пробел, например: Иванова Мария Сергеевна. Сейчас { $found } { $found ->
        [one] слово
        [few] слова
       *[many] слов
    }.

## SNILS

invalid-snils-empty = Пришлите, пожалуйста, номер СНИЛС — 11 цифр, например: 112-233-445 95

invalid-snils-character = В номере СНИЛС бывают только цифры, пробелы и дефисы, а здесь есть «{ $character }». Пришлите, пожалуйста, только номер, например: 112-233-445 95

invalid-snils-length = В СНИЛС 11 цифр, а здесь { $found }. Проверьте, пожалуйста, и пришлите ещё раз, например: 112-233-445 95

invalid-snils-checksum = Номер СНИЛС не сходится: две последние цифры (контрольное число) не подходят к остальным. Скорее всего, одна цифра набрана неверно — сверьте, пожалуйста, с документом или Госуслугами и пришлите ещё раз.

invalid-snils-placeholder = Такого номера СНИЛС не бывает. Пришлите, пожалуйста, номер из документа СНИЛС или из Госуслуг, например: 112-233-445 95

## Phone

invalid-phone-empty = Пришлите, пожалуйста, номер телефона, например: +7 912 345-67-89

invalid-phone-character = В номере телефона не бывает знака «{ $character }». Пришлите, пожалуйста, только номер, например: +7 912 345-67-89

invalid-phone-length = В российском номере 11 цифр вместе с +7 или 8, а здесь { $found }. Проверьте, пожалуйста, и пришлите ещё раз, например: +7 912 345-67-89

invalid-phone-russian-code = Российские номера не начинаются с +7 { $first_digit }. Проверьте, пожалуйста, код оператора или города, например: +7 912 345-67-89

invalid-phone-country-code = Не получилось понять, какой страны этот номер. Напишите его, пожалуйста, с кодом страны через +, например: +375 29 123-45-67

invalid-phone-international-length = В международном номере от 8 до 15 цифр вместе с кодом страны, а здесь { $found }. Проверьте, пожалуйста, номер.

## Birth date

invalid-birth-date-empty = Напишите, пожалуйста, дату рождения в виде ДД.ММ.ГГГГ, например: 07.03.1985

invalid-birth-date-format = Не получилось прочитать дату. Напишите её, пожалуйста, в виде ДД.ММ.ГГГГ, например: 07.03.1985

invalid-birth-date-two-digit-year = Напишите, пожалуйста, год полностью, четырьмя цифрами: 07.03.1985, а не 07.03.85.

invalid-birth-date-nonexistent = Такой даты нет в календаре. Проверьте, пожалуйста, день и месяц, например: 07.03.1985

invalid-birth-date-future = Эта дата ещё не наступила. Проверьте, пожалуйста, год рождения.

invalid-birth-date-too-young = Наши программы доступны с { $min_age } лет. Проверьте, пожалуйста, дату рождения; если она верна, напишите нам — подскажем, как быть.

invalid-birth-date-too-old = По этой дате вам больше { $max_age } лет. Проверьте, пожалуйста, год рождения.

## Postal index and address

invalid-postal-index-empty = Пришлите, пожалуйста, почтовый индекс — 6 цифр, например: 420111

invalid-postal-index-not-digits = В почтовом индексе только цифры, например: 420111. Проверьте, пожалуйста.

invalid-postal-index-length = В почтовом индексе 6 цифр, а здесь { $found }. Проверьте, пожалуйста, например: 420111

invalid-postal-index-not-russian = Российские почтовые индексы начинаются с цифр от 1 до 6. Проверьте, пожалуйста, индекс — его можно найти на сайте Почты России по адресу.

invalid-address-empty = Пришлите, пожалуйста, почтовый адрес с индексом, например: 420111, г. Казань, ул. Баумана, д. 5, кв. 12

invalid-address-too-short = Адрес получился слишком коротким — меньше { $min } знаков. Нужен полный адрес: индекс, населённый пункт, улица, дом и квартира, например: 420111, г. Казань, ул. Баумана, д. 5, кв. 12

invalid-address-too-long = Адрес получился слишком длинным — больше { $max } знаков. Оставьте, пожалуйста, только индекс, населённый пункт, улицу, дом и квартиру.

invalid-address-missing-index = В адресе не хватает почтового индекса из 6 цифр. Допишите его, пожалуйста, например: 420111, г. Казань, ул. Баумана, д. 5, кв. 12

invalid-address-missing-locality = В адресе не указан город или другой населённый пункт. Допишите его, пожалуйста, например: 420111, г. Казань, ул. Баумана, д. 5, кв. 12

invalid-address-missing-house = В адресе не хватает улицы и номера дома. Допишите их, пожалуйста, например: 420111, г. Казань, ул. Баумана, д. 5, кв. 12

## Education

invalid-education-unknown = Выберите, пожалуйста, уровень образования кнопкой ниже.

invalid-education-not-admitted =
    К программам { $program ->
        [qualification] повышения квалификации
        [retraining] профессиональной переподготовки
       *[other] дополнительного профессионального образования
    } допускаются слушатели с высшим или средним профессиональным образованием, а также студенты вузов и колледжей (закон «Об образовании в РФ», ст. 76). Вам подойдут программы профессионального обучения — их можно посмотреть в каталоге.

education-higher = Высшее

education-secondary-professional = Среднее профессиональное

education-student-higher = Студент вуза

education-student-college = Студент колледжа или техникума

education-secondary-general = Среднее общее (11 классов)

education-basic-general = Основное общее (9 классов)

## Tracking numbers (typed by staff)

invalid-tracking-empty = Пришлите, пожалуйста, трек-номер: 14 цифр или 13 знаков вида RA123456785RU.

invalid-tracking-length =
    Здесь { $found } { $found ->
        [one] знак
        [few] знака
       *[many] знаков
    }, а в трек-номере 14 цифр (или 13 знаков у международного вида RA123456785RU). Проверьте, пожалуйста.

invalid-tracking-shape = Трек-номер выглядит иначе: 14 цифр (например, 14084006734100) или 13 знаков — две латинские буквы, 9 цифр и две латинские буквы (например, RA123456785RU). Проверьте, пожалуйста.

invalid-tracking-checksum = Трек-номер не сходится по контрольной цифре — скорее всего, один знак набран неверно. Сверьте, пожалуйста, с квитанцией.

## Электронный образец документа о квалификации (шаг 6 инструкции).
## Read by uchbot::certificate::SampleWording::from_fluent; every message gets these variables:
##   $name     full name, «Иванова Мария Сергеевна»
##   $gender   "female" | "male" | "unknown", told by the patronymic (-вна/-чна, -вич/-ич)
##   $from     first day of study, «1 декабря 2026 г.»
##   $to       last day of study, «7 декабря 2026 г.»
##   $school   the school's name as it stands after «в» («ООО «Учебный центр „Профи“»»)
##   $program  program title, without quotes
##   $hours    volume in academic hours, a number (plural forms below)
##   $number   registration number, «ПК-2026-000123»
##   $date     date of issue, «7 декабря 2026 г.»
##   $city     city of issue
##   $year     year of issue, «2026»
## The learner's name is printed on its own line between the -lead and the -completion
## messages, the program title on its own line after -completion.

doc-sample-watermark = ОБРАЗЕЦ
doc-sample-disclaimer = Электронный образец для проверки данных. Не является документом о квалификации.
doc-sample-registration = Регистрационный номер { $number }
doc-sample-issued = Дата выдачи { $date }
doc-sample-place-year = { $city }, { $year }
doc-sample-program = «{ $program }»
doc-sample-volume =
    в объёме { $hours ->
        [one] { $hours } час
        [few] { $hours } часа
       *[many] { $hours } часов
    }

## Удостоверение о повышении квалификации
doc-sample-certificate-title = УДОСТОВЕРЕНИЕ
doc-sample-certificate-subtitle = о повышении квалификации
doc-sample-certificate-lead = Настоящее удостоверение свидетельствует о том, что
doc-sample-certificate-completion =
    с { $from } по { $to } { $gender ->
        [female] прошла
        [male] прошёл
       *[other] прошёл(ла)
    } повышение квалификации в { $school } по дополнительной профессиональной программе

## Диплом о профессиональной переподготовке
doc-sample-diploma-title = ДИПЛОМ
doc-sample-diploma-subtitle = о профессиональной переподготовке
doc-sample-diploma-lead = Настоящий диплом свидетельствует о том, что
doc-sample-diploma-completion =
    с { $from } по { $to } { $gender ->
        [female] прошла
        [male] прошёл
       *[other] прошёл(ла)
    } профессиональную переподготовку в { $school } по дополнительной профессиональной программе

## Свидетельство о профессии рабочего, должности служащего
doc-sample-svidetelstvo-title = СВИДЕТЕЛЬСТВО
doc-sample-svidetelstvo-subtitle = о профессии рабочего, должности служащего
doc-sample-svidetelstvo-lead = Настоящее свидетельство подтверждает, что
doc-sample-svidetelstvo-completion =
    с { $from } по { $to } { $gender ->
        [female] прошла
        [male] прошёл
       *[other] прошёл(ла)
    } профессиональное обучение в { $school } по основной программе профессионального обучения


## Письма

letter-code-subject = Код подтверждения — { $school }
letter-code =
    Здравствуйте!

    Ваш код подтверждения адреса: { $code }

    Введите его в чате с ботом учебного центра. Код действует { $minutes } минут. Если вы не запрашивали код, просто не отвечайте на это письмо.

    С уважением,
    { $school }
letter-notice-subject = Новости по вашему обучению — { $school }

## Оплата (для платёжной системы)

payment-description = Заказ № { $order }: { $title }
payment-item = Обучение по программе «{ $title }»
photo-file-name = фото-{ $n }.{ $ext }

## Чат сотрудников

alert-who = { $name }{ $username }{ $email }, слушатель № { $id }
alert-new-learner = 🆕 Новый слушатель: { $who }
alert-offer-accepted =
    📄 Оферта принята: { $who }
    Курс { $course }
alert-paid =
    💳 Оплата получена ({ $via }): { $amount }
    { $who }
    Курс { $course }
alert-payment-canceled =
    ⚠️ Платёж отменён: { $who }
    Курс { $course }
alert-application =
    📋 <b>Заявление на зачисление</b> — на проверку
    { $who }
    Курс { $course }

    { $fields }

    Документов: { $count }, файлы ниже.
alert-document-caption = Документ № { $id } ({ $kind }), слушатель № { $learner }
alert-integration = 🔧 Сбой внешнего сервиса «{ $service }»: { $detail }
btn-staff-accept = ✅ Принять
btn-staff-return = ↩️ Вернуть документ
staff-accepted-toast = Принято
staff-accepted = ✅ Документы по зачислению № { $enrollment } приняты ({ $staff }). Слушатель уведомлён.
staff-already-done = Это уже обработано.
staff-return-which = Какой документ вернуть (зачисление № { $enrollment })?
staff-return-doc-button = { $kind }: { $file }
staff-return-reason = Напишите причину возврата документа «{ $file }» ответом на это сообщение — слушатель получит её дословно. № { $id }
staff-returned = ↩️ Документ «{ $file }» возвращён, слушатель уведомлён.
staff-reason-empty = Причина пустая. Ответьте на сообщение с вопросом ещё раз, написав причину текстом.

## Командная строка

cli-migrated = База данных в актуальном состоянии.
cli-import-unchanged = Каталог { $file } не изменился — импортировать нечего.
cli-import-done = Каталог { $file } импортирован. Добавлено: { $added }. Изменено: { $updated }. Снято: { $withdrawn }.
cli-catalog-empty = Каталог пуст. Загрузите его: uchbot catalog import dialogues/catalog.example.toml
cli-catalog-questions = вопросов итогового теста: { $count }
shell-user-name = Гость
shell-banner =
    uchbot shell — вы слушатель, бот отвечает как в Telegram (данные: { $db }).
    Кнопки — цифрами, файл — /file путь, выход — /quit. Письма бота печатаются здесь же.
shell-url = Ссылка: { $url }
shell-no-such-button = Такой кнопки нет.
shell-file-unreadable = Не удалось прочитать файл: { $error }

## Персональные данные (152-ФЗ)

mydata-file-name = мои-данные.json
mydata-subject = Ваши персональные данные — { $school }
mydata-caption = Здесь всё, что учебный центр хранит о вас: контакты, согласие, курсы, заказы, заявление, список документов и история действий. Сами сканы документов хранятся в зашифрованном виде и выдаются только сотрудникам.
forget-warning =
    Вы хотите отозвать согласие на обработку персональных данных.

    Мы уничтожим заявление (ФИО, дата рождения, СНИЛС, телефон, адрес), сканы документов и привязку к этому чату. Обучение прекратится, а документ о квалификации выдать будет нельзя.

    Договор и сведения об оплате мы обязаны хранить { $years } лет (закон «О бухгалтерском учёте»), после этого они будут обезличены.

    Продолжить?
btn-forget-confirm = Да, отозвать согласие и удалить данные
btn-forget-cancel = Нет, оставить как есть
forget-in-progress = Отзываем согласие…
forget-done = Готово: согласие отозвано, персональные данные уничтожены (файлов документов: { $documents }). Договор и сведения об оплате хранятся { $years } лет по закону и затем обезличиваются. Если захотите вернуться — просто нажмите /start.
alert-line-consent-withdrawn = слушатель № { $id } отозвал согласие, данные уничтожены
alert-consent-withdrawn = 🗑 Слушатель № { $id } отозвал согласие на обработку персональных данных. Персональные данные и документы уничтожены (файлов: { $documents }), акт записан в журнал.

## Сотрудники: оповещения, команды, карточка слушателя (чат сотрудников и личный чат сотрудника)

alert-kind-learners = 🆕 Слушатели
alert-kind-payments = 💳 Оплаты
alert-kind-applications = 📋 Заявления и документы
alert-kind-mail = ✉️ Почта
alert-kind-tests = 📝 Итоговые тесты
alert-kind-certificates = 🎓 Документы о квалификации
alert-kind-integrations = 🔧 Сбои сервисов
alert-line-course = «{ $course }», группа «{ $group }»
alert-line = { $who } — { $what }
alert-line-new = новый слушатель
alert-line-offer = оферта принята, { $course }
alert-line-paid = оплачено { $amount }, { $course }
alert-line-canceled = платёж отменён, { $course }
alert-line-application = заявление на проверку, { $course }
alert-line-mail-docs = { $count ->
    [one] { $count } документ по почте
    [few] { $count } документа по почте
   *[many] { $count } документов по почте
}
alert-line-certificate-confirmed = образец подтверждён, рег. № { $number }
alert-line-certificate-corrected = просит исправить образец
alert-line-bounced = письмо на { $to } не доставлено
alert-line-unknown-sender = письмо от { $from } ({ $subject }) — отправитель не найден
alert-line-integration = сбой «{ $service }»: { $detail }
alert-nobody = слушатель с таким адресом не найден
alert-documents-by-email =
    📎 <b>Документы пришли по почте</b>
    { $who }
    { $course }
    Файлы ({ $count }): { $files }
alert-unknown-sender =
    ✉️ <b>Письмо от неизвестного отправителя</b>
    От: { $from }
    Тема: { $subject }
    Такого адреса нет ни у одного слушателя. Письмо лежит в почтовом ящике школы — ответьте с него или найдите слушателя через /find.
alert-test-passed = тест сдан: { $score } из { $total }
alert-test-failed = тест не сдан: { $score } из { $total }
alert-test-result =
    📝 <b>Итоговый тест</b>, попытка { $attempt }: { $result }
    { $who }
    Курс { $course }
alert-certificate-confirmed =
    🎓 <b>Образец документа подтверждён</b> — можно печатать
    { $who }
    Курс { $course }
    Регистрационный номер: { $number }
alert-certificate-corrected =
    ✏️ <b>Слушатель просит исправить образец документа</b>
    { $who }
    Курс { $course }
    Что исправить: { $note }
alert-letter-bounced =
    📭 <b>Письмо не доставлено</b> на { $to }
    Причина: { $reason }
    { $who }
alert-digest =
    🗂 <b>{ $kind }</b>: { $count ->
        [one] { $count } оповещение
        [few] { $count } оповещения
       *[many] { $count } оповещений
    } за короткое время — одним списком{ $parts ->
        [1] {""}
       *[other] , часть { $part } из { $parts }
    }:
    { $lines }
paid-via-yookassa = ЮKassa
paid-via-manual = отмечено сотрудником
paid-via-demo = демо
btn-staff-card = 👤 Карточка слушателя
btn-staff-card-n = 👤 Слушатель № { $id }
btn-staff-found = { $name } (№ { $id }) { $email }
btn-staff-accept-n = ✅ Принять (№ { $enrollment })
btn-staff-return-n = ↩️ Вернуть документ (№ { $enrollment })
btn-staff-printed = 🖨 Напечатано
btn-staff-printed-n = 🖨 Напечатано (№ { $enrollment })
btn-staff-docs = 📎 Документы ({ $count })
btn-staff-audit = 🧾 Журнал действий
btn-staff-csv = 📥 Список группы (CSV)
btn-staff-confirm-paid = ✅ Да, отметить оплаченным
btn-staff-send-broadcast = 📨 Отправить ({ $count })
btn-staff-cancel = Отмена
command-staff-find = Найти слушателя: ФИО, почта или телефон
command-staff-group = Список группы с этапами и CSV для печати
command-staff-pending = Что ждёт сотрудников
command-staff-stats = Сводка по этапам и курсам
command-staff-track = Трек-номер письма с документом
command-staff-paid = Отметить заказ оплаченным (перевод) — админ
command-staff-broadcast = Сообщение всей группе — админ
command-staff-audit = Журнал действий по слушателю — админ
command-staff-help = Команды сотрудников
staff-help =
    <b>Команды сотрудников</b>
    /find ФИО, почта или телефон — карточка слушателя
    /group ID-группы — список группы с этапами и CSV для печати документов
    /pending — что ждёт сотрудников
    /stats — сводка по этапам и курсам
    /track номер-слушателя трек-номер — трек-номер письма с документом
    Только администраторы:
    /paid номер-заказа причина — отметить оплату переводом
    /broadcast ID-группы текст — сообщение всей группе (с предпросмотром)
    /audit номер-слушателя — журнал действий по слушателю
staff-only-command = Эта команда — для сотрудников учебного центра.
staff-needs-admin = Это может сделать только администратор.
staff-not-your-request = Это запрос другого сотрудника: подтвердить его может только автор.
staff-command-failed = Не получилось выполнить команду. Попробуйте ещё раз через минуту; если повторится — посмотрите журнал сервера.
staff-truncated = … (дальше не поместилось в сообщение)
staff-no-learner = Такого слушателя нет.
staff-find-usage = Напишите, кого искать: /find Иванова, /find masha@example.org или /find +7 912 345-67-89.
staff-find-none = По запросу «{ $query }» никого не нашлось.
staff-find-many = По запросу «{ $query }» { $count ->
    [one] нашёлся { $count } слушатель
    [few] нашлось { $count } слушателя
   *[many] нашлось { $count } слушателей
}. Выберите (показаны первые десять):
staff-stage-awaiting-payment = ждём оплату
staff-stage-application = оплачено, заполняет заявление
staff-stage-documents = заявление заполнено, ждём документы
staff-stage-returned = документ возвращён: { $note }
staff-stage-returned-any = документ возвращён
staff-stage-under-review = документы на проверке
staff-stage-accepted = зачислен, документы приняты
staff-doc-received = получен
staff-doc-accepted = принят
staff-doc-returned = возвращён
staff-card =
    👤 <b>{ $name }</b> · слушатель № { $id }
    Telegram: { $username } · почта: { $email } · телефон: { $phone }
    С нами с { $since }

    { $courses }
staff-card-no-courses = Пока ни на один курс не записан.
staff-card-enrollment =
    <b>«{ $course }»</b>, группа «{ $group }» { $dates } (зачисление № { $enrollment })
    Этап: { $stage }
    { $order }
    Документы:
    { $documents }
    { $tests }
    { $certificate }
staff-card-order-paid = Заказ № { $order }: { $amount }, оплачен ({ $via }) { $at }
staff-card-order-unpaid = Заказ № { $order }: { $amount }, не оплачен
staff-card-document = • { $kind }: «{ $file }» — { $status } (№ { $id })
staff-card-no-documents = • пока нет
staff-card-test = Тест, попытка { $number }: { $score } из { $total } — { $passed ->
    [yes] сдан
   *[no] не сдан
}
staff-card-certificate = Документ о квалификации, рег. № { $number }: { $state }
staff-certificate-sample = образец отправлен слушателю
staff-certificate-confirmed = образец подтверждён, ждёт печати
staff-certificate-printed = напечатан, ждёт отправки
staff-certificate-posted = отправлен, трек-номер { $tracking }
staff-no-documents = У слушателя нет документов.
staff-document-unreadable = Файл «{ $file }» не читается из хранилища — сообщите администратору сервера.
staff-group-usage = Напишите ID группы: /group pk-fgos-2026-11 (ID есть в каталоге).
staff-group-unknown = Группы «{ $group }» нет в каталоге.
staff-roster =
    👥 <b>Группа «{ $group }»</b> — «{ $course }» { $dates }
    { $count ->
        [one] { $count } слушатель
        [few] { $count } слушателя
       *[many] { $count } слушателей
    }:
    { $lines }
staff-roster-line = { $n }. { $name } (№ { $id }) — { $stage }
staff-csv-caption = Группа { $group }: { $count ->
    [one] { $count } слушатель
    [few] { $count } слушателя
   *[many] { $count } слушателей
}. Файл для Excel: данные для печати документов.
csv-number = №
csv-full-name = ФИО
csv-birth-date = Дата рождения
csv-snils = СНИЛС
csv-address = Почтовый адрес
csv-phone = Телефон
csv-email = Эл. почта
csv-course = Программа
csv-hours = Часов
csv-starts = Начало обучения
csv-ends = Окончание обучения
csv-document = Документ
csv-registration-number = Рег. номер
csv-stage = Этап
csv-document-certificate = Удостоверение о повышении квалификации
csv-document-diploma = Диплом о профессиональной переподготовке
csv-document-svidetelstvo = Свидетельство о профессии рабочего, должности служащего
staff-pending =
    ⏳ <b>Ждёт сотрудников</b>

    { $sections }
staff-pending-section =
    <b>{ $title }</b> ({ $count }):
    { $lines }
staff-pending-none = <b>{ $title }</b>: нет.
staff-pending-reviews = Заявления на проверку
staff-pending-print = Образцы подтверждены — напечатать
staff-pending-post = Напечатаны — отправить письмом и ввести трек-номер
staff-pending-orders = Заказы без оплаты (перевод подтверждается через /paid)
staff-pending-line = • { $name } (№ { $id }) — { $what }, зачисление № { $enrollment }
staff-pending-certificate = • { $name } (№ { $id }) — рег. № { $number }, { $what }
staff-pending-order = • заказ № { $order }: { $name } (№ { $id }), { $amount }
staff-stats =
    📊 <b>Сводка</b>: { $total ->
        [one] { $total } зачисление
        [few] { $total } зачисления
       *[many] { $total } зачислений
    }
    { $stages }

    { $courses }
staff-stats-count = • { $stage }: { $count }
staff-stats-course =
    <b>«{ $course }»</b>: { $count }
    { $stages }
staff-audit =
    🧾 <b>Журнал: { $name }</b> (слушатель № { $id }), записей: { $count }{ $skipped ->
        [0] {""}
       *[other] , показаны последние
    }
    { $lines }
staff-audit-line = { $at } · { $actor } · { $action } { $details }
staff-audit-empty = Записей нет.
staff-audit-usage = Напишите номер слушателя: /audit 12 (номер есть в карточке и в оповещениях).
staff-actor-admin = администратор { $id }
staff-actor-manager = менеджер { $id }
staff-actor-former = бывший сотрудник { $id }
staff-track-usage = Напишите номер слушателя и трек-номер: /track 12 14084006734100.
staff-track-no-certificate = У слушателя { $name } (№ { $id }) ещё нет документа о квалификации — трек-номер не к чему привязать.
staff-track-done = 📮 Трек-номер { $number } сохранён: { $name }, документ рег. № { $registration }. Слушатель уведомлён.
track-notice =
    📮 Ваш документ о квалификации (рег. № { $registration }) отправлен заказным письмом Почты России.
    Трек-номер: { $number }
    Отследить письмо: https://www.pochta.ru/tracking#{ $number }
staff-paid-usage = Напишите номер заказа и причину: /paid 7 платёжное поручение № 123 от 20.11.2026.
staff-paid-no-order = Заказа № { $order } нет.
staff-paid-already = Заказ № { $order } уже оплачен.
staff-paid-confirm =
    💳 Отметить заказ № { $order } оплаченным?
    Слушатель: { $name } (№ { $id })
    Курс { $course }
    Сумма: { $amount }
    Причина: { $reason }
staff-paid-done = ✅ Заказ № { $order } отмечен оплаченным ({ $staff }). Причина: { $reason }. Слушатель уведомлён.
staff-request-cancelled = Отменено, ничего не изменилось.
staff-broadcast-usage = Напишите ID группы и текст: /broadcast pk-fgos-2026-11 Завтра занятие переносится на 19:00.
staff-broadcast-ask = Напишите текст сообщения для группы { $group } ответом на это сообщение. Перед отправкой я покажу, как оно выглядит.
staff-broadcast-empty = Текст пустой. Ответьте на вопрос ещё раз, написав текст сообщения.
staff-broadcast-preview =
    📨 <b>Предпросмотр</b> — получат { $count ->
        [one] { $count } слушатель
        [few] { $count } слушателя
       *[many] { $count } слушателей
    } группы { $group }:

    { $text }
staff-broadcast-sent = 📨 Сообщение для группы { $group } поставлено в очередь: { $count ->
    [one] { $count } получатель
    [few] { $count } получателя
   *[many] { $count } получателей
}. Уходит постепенно, с учётом ограничений Telegram.
broadcast-message =
    📢 Сообщение от учебного центра «{ $school }»:

    { $text }
staff-printed-toast = Отмечено
staff-printed = 🖨 Документ по зачислению № { $enrollment } напечатан ({ $staff }). Осталось отправить письмо и ввести трек-номер: /track { $id } номер.

## Обучение: расписание, напоминания о вебинарах, материалы

menu-schedule = 📅 Расписание
command-schedule = Расписание занятий
command-materials = Материалы и записи занятий
btn-schedule = 📅 Расписание
btn-materials = 🎓 Пройти обучение
btn-lesson-materials = 📎 { $date } · { $topic }
btn-change-tz = 🕒 Часовой пояс: { $zone }
btn-join-webinar = ▶️ Войти на вебинар
date-short = { $day } { $month ->
    [1] января
    [2] февраля
    [3] марта
    [4] апреля
    [5] мая
    [6] июня
    [7] июля
    [8] августа
    [9] сентября
    [10] октября
    [11] ноября
   *[12] декабря
}
lesson-when = { $weekday ->
    [1] пн
    [2] вт
    [3] ср
    [4] чт
    [5] пт
    [6] сб
   *[7] вс
}, { $date }, { $time }
lesson-when-weekday = { $weekday ->
    [1] пн
    [2] вт
    [3] ср
    [4] чт
    [5] пт
    [6] сб
   *[7] вс
}, { $time }
time-with-school = { $when } ({ $school_time } { $zone })
tz-zone = { $offset ->
    [2] Калининград
    [3] Москва
    [4] Самара
    [5] Екатеринбург
    [6] Омск
    [7] Новосибирск
    [8] Иркутск
    [9] Якутск
    [10] Владивосток
    [11] Магадан
   *[12] Камчатка
} (UTC+{ $offset })
tz-zone-other = { $name } (UTC{ $offset })
tz-short = { $moscow ->
    [yes] мск
   *[no] UTC{ $offset }
}
tz-saved = Часовой пояс сохранён: { $zone }
schedule-ask-tz =
    В каком часовом поясе показывать время занятий?

    Выберите свой — расписание и напоминания о вебинарах будут приходить по вашему времени. Сменить пояс можно в любой момент кнопкой под расписанием.
schedule-no-courses = Расписание и материалы занятий появятся после зачисления на курс. Выберите курс в каталоге.
schedule-not-enrolled = Расписание и материалы откроются после зачисления — когда заявление и документы будут отправлены. Что осталось сделать, подскажет /status.
schedule-header =
    📅 <b>Расписание занятий</b>
    { $note }
schedule-zone-same = Время указано по вашему часовому поясу: { $zone }.
schedule-zone-other = Время указано по вашему часовому поясу: { $zone }; в скобках — время учебного центра ({ $school_zone }).
schedule-group =
    <b>{ $course }</b>
    { $group }, { $dates }
schedule-lesson-past = ✅ { $when } — { $topic }
schedule-lesson-next = ▶️ <b>{ $when } — { $topic }</b>
schedule-lesson-future = ▫️ { $when } — { $topic }
schedule-no-lessons = Занятия группы ещё не внесены в расписание.
schedule-materials-hint = ✅ — занятие прошло: материалы и запись — кнопками ниже и в разделе «Пройти обучение».
materials-header =
    🎓 <b>Пройти обучение</b>
    Материалы и записи прошедших занятий.
materials-group = <b>{ $course }</b> · { $group }
materials-lesson =
    <b>{ $when }</b> — { $topic }
    { $links }
materials-link = • <a href="{ $url }">{ $title }</a>
materials-recording = • <a href="{ $url }">▶️ Запись занятия</a>
materials-no-recording = • Запись занятия появится позже.
materials-none-yet = Материалы появятся после первого занятия — { $when }.
lesson-materials =
    📎 <b>Материалы и запись занятия</b>
    «{ $topic }», { $when }
    Курс «{ $course }»

    { $links }
lesson-reminder =
    🔔 <b>Скоро вебинар</b>
    «{ $topic }»
    Курс «{ $course }»
    Начало: { $when }

    { $note }
lesson-reminder-started =
    🔔 <b>Вебинар уже идёт</b> — подключайтесь.
    «{ $topic }»
    Курс «{ $course }»
    Начало было: { $when }

    { $note }
reminder-note-personal = Кнопка ниже — ваша личная ссылка на вебинар, не пересылайте её. Ссылка работает только во время вебинара.
reminder-note-general = Ссылка работает только во время вебинара.
cli-jobs-planned = Расписание: запланировано заданий — { $scheduled }, отменено — { $cancelled }.

## Bad input: edited messages, very long texts (h4/proof)
text-too-long = Сообщение слишком длинное — в ответ на вопрос хватит до тысячи знаков. Пришлите, пожалуйста, покороче.
edited-message-note = Исправления в уже отправленных сообщениях я не вижу. Если нужно что-то поправить, пришлите, пожалуйста, новое сообщение.
still-working = Минутку — сервис отвечает дольше обычного. Я на связи и напишу, как только будет ответ.
technical-trouble = Не получилось обработать сообщение: у нас временные технические неполадки. Пожалуйста, повторите через пару минут — всё, что вы ввели раньше, сохранено.
technical-trouble-short = Временные неполадки. Пожалуйста, нажмите ещё раз через пару минут.

## Почта: письма слушателей в ящик учебного центра (IMAP), квитанции, ответы на письма бота

mail-code-bounced = 📭 Письмо с кодом не дошло до { $email }: почтовый сервер ответил, что доставить его нельзя. Проверьте, пожалуйста, адрес и напишите его ещё раз.
mail-letters-bounced = 📭 Наши письма не доходят до { $email }: почтовый сервер отвечает, что доставить их нельзя. Проверьте ящик или напишите нам с другого адреса: { $school_email }.
mail-question-forwarded = ✉️ Получили ваше письмо и передали его сотрудникам учебного центра. Ответим в ближайшее рабочее время.
mail-doc-which = 📎 Файл «{ $file }» пришёл по почте. Какой это документ?
mail-docs-arrived = 📎 Документы, присланные по почте, добавлены в ваше личное дело.
mail-doc-sorted = ✅ Принято: { $kind }.
mail-refused-type-short = такой формат мы не принимаем, пришлите, пожалуйста, PDF или фотографию (JPEG, PNG, HEIC)
mail-refused-too-large-short = файл слишком большой ({ $size }), принимаем файлы до { $limit }; уменьшите, пожалуйста, скан или пришлите его частями
mail-refused-too-many-short = в одном письме принимаем не больше { $limit ->
    [one] { $limit } файла
   *[other] { $limit } файлов
}; пришлите, пожалуйста, остальные отдельным письмом
mail-receipt-subject = Документы получены — { $school }
mail-receipt-accepted = ✅ «{ $file }» — принят: { $kind }
mail-receipt-unsorted = ✅ «{ $file }» — принят; уточним, какой это документ
mail-receipt-duplicate = ☑️ «{ $file }» — этот файл мы уже получили раньше, второй раз не сохраняем
mail-receipt-refused = ❌ «{ $file }» — не принят: { $reason }
mail-receipt-footer = Сотрудники проверят документы и сообщат, если что-то нужно исправить.
mail-receipt-footer-telegram = Мы не смогли понять по названию, какой документ в некоторых файлах: спросили об этом в чате с ботом в Telegram.
mail-receipt-footer-no-enrollment = Документы сохранены в вашем личном деле. Сотрудники свяжутся с вами, если понадобится что-то ещё.
mail-receipt =
    Здравствуйте!

    Спасибо, ваше письмо получено. Вот что мы сделали с вложениями:

    { $lines }

    { $footer }

    На это письмо можно ответить — ответ дойдёт до учебного центра.

    С уважением,
    { $school }
mail-unknown-subject = Ваше письмо получено — { $school }
mail-unknown-how = Чтобы письма с этого адреса попадали в ваше личное дело, откройте бота учебного центра в Telegram по ссылке { $link } и подтвердите в нём этот адрес почты.
mail-unknown-how-no-link = Чтобы письма с этого адреса попадали в ваше личное дело, подтвердите этот адрес в чате с ботом учебного центра в Telegram.
mail-unknown-reply =
    Здравствуйте!

    Спасибо за письмо. Мы не нашли слушателя с адресом { $email }, поэтому не смогли сразу приложить письмо к личному делу. Письмо передано сотрудникам учебного центра — они его прочитают.

    { $how }

    Если вы пишете с другого адреса, чем указали при записи, — просто ответьте с того адреса или позвоните нам: { $phone }.

    Это автоматический ответ, он приходит один раз.

    С уважением,
    { $school }
alert-line-mail-question = вопрос по почте: { $subject }
alert-mail-question =
    ✉️ <b>Вопрос по почте</b>
    { $who }
    { $course }
    Тема: { $subject }

    { $text }
alert-line-mail-held = письмо с адреса { $from } без подтверждения отправителя
alert-mail-held =
    🛡 <b>Письмо задержано до проверки</b>
    { $who }
    От: { $from }
    Тема: { $subject }
    Почтовый сервер не подтвердил (DKIM/DMARC), что письмо отправил владелец адреса: адрес отправителя можно подделать. Письмо лежит в почтовом ящике школы; вложения пока не добавлены в личное дело.
    Если письмо точно от слушателя (например, вы созвонились), нажмите «Принять письмо» — вложения попадут в личное дело, как будто письмо прошло проверку.
btn-staff-release-letter = ✅ Принять письмо
btn-staff-reject-letter = 🚫 Не принимать
mail-held-released = Письмо принято и обработано.
mail-held-rejected = Письмо не принято; оно остаётся в почтовом ящике.
mail-held-decided-before = По этому письму уже принято решение.
mail-sort-how =
    Ответьте, пожалуйста, на это письмо: для каждого файла — строка с его номером и названием документа, например:
    1 — паспорт
    2 — диплом
    Подойдут слова «паспорт»; «диплом», «аттестат» или «документ об образовании»; «свидетельство о браке» или «смена фамилии».
mail-receipt-footer-ask =
    Мы не смогли понять по названию, какой документ в этих файлах:
    { $files }

    { $how }
mail-sort-recorded-line = ✅ «{ $file }» — { $kind }
mail-sort-recorded =
    Спасибо! Записали в ваше личное дело:
    { $lines }
mail-sort-again =
    Не удалось понять, какой документ в этих файлах:
    { $files }

    { $how }

## Итоговая аттестация (шаг 5 инструкции) и документ о квалификации (шаг 6): образец, проверка ФИО и адреса, отправка

menu-test = 📝 Итоговая аттестация
command-test = Итоговая аттестация (тест)
btn-test = 📝 Итоговая аттестация
btn-test-start = ▶️ Начать тест
btn-test-again = 🔁 Пройти ещё раз
btn-test-done = ➡️ Готово
btn-test-marked = ✅ { $n }
test-contacts = { $school_email }, { $school_phone }
test-no-courses = Итоговая аттестация проходит в конце обучения. Сначала выберите курс в каталоге.
test-not-enrolled = Итоговая аттестация откроется после зачисления на курс. Что осталось сделать, подскажет /status.
test-not-yet = Итоговая аттестация по курсу «{ $course }» откроется { $opens } и будет доступна до { $closes } включительно. Я напомню, когда тест откроется.
test-time-limit = Время на попытку: { $minutes } мин — отсчёт идёт с первого вопроса.
test-no-time-limit = Время на попытку не ограничено.
test-intro =
    📝 <b>Итоговая аттестация</b>
    Курс «{ $course }»

    Вопросов: { $total }. Чтобы сдать, нужно ответить верно хотя бы на { $needed } ({ $percent } %).
    { $time }
    Попытка { $attempt } из { $attempts }{ $pause ->
        [0] .
       *[other] ; если не получится, следующую можно начать через { $pause } мин.
    }
    Тест открыт до { $closes } включительно.

    Вопросы приходят по одному, ответы — кнопками под вопросом. Начнём?
test-question =
    📝 <b>Вопрос { $step } из { $total }</b> { $time }
    Итоговая аттестация, курс «{ $course }»

    <b>{ $text }</b>
    <i>{ $hint }</i>

    { $options }
test-time-left = · ⏱ осталось { $minutes } мин
test-time-left-last = · ⏱ осталась последняя минута
test-hint-single = Выберите один ответ.
test-hint-multiple = Отметьте все верные ответы и нажмите «Готово».
test-option = { $marked ->
    [yes] ✅ { $n }. { $text }
   *[no] { $n }. { $text }
}
test-resumed = У вас незаконченная попытка — продолжаем с вопроса { $step } из { $total }.
test-running = Тест уже идёт — ответьте, пожалуйста, на вопрос выше.
test-question-past = Этот вопрос уже позади — ответьте на последний вопрос теста.
test-attempt-over = Эта попытка уже завершена.
test-mark-something = Отметьте хотя бы один вариант.
test-pause-toast = Следующую попытку можно начать { $at }.
test-passed-toast = Тест уже сдан.
test-no-questions = Вопросы итогового теста ещё не загружены. Напишите нам, пожалуйста: { $contacts }.
test-ended-time = ⏰ Время на попытку истекло — засчитаны ответы, данные до этого.
test-ended-closed = ⏰ Итоговая аттестация закрылась — засчитаны ответы, данные до этого.
test-result-passed =
    { $how }
    ✅ <b>Тест сдан!</b> Курс «{ $course }».
    Верных ответов: { $score } из { $total } ({ $percent } %), проходной балл — { $pass } %.

    { $next }
test-result-failed =
    { $how }
    ❌ <b>Тест не сдан.</b> Курс «{ $course }».
    Верных ответов: { $score } из { $total } ({ $percent } %), а нужно не меньше { $pass } %.

    { $next }
test-next-sample-later = Что дальше: после окончания обучения ({ $date }) я пришлю электронный образец документа о квалификации — нужно будет проверить ФИО и почтовый адрес.
test-next-sample-now = Что дальше: сейчас пришлю электронный образец документа о квалификации — проверьте, пожалуйста, ФИО и почтовый адрес.
test-next-sample-sent = Электронный образец документа уже отправлен — проверьте, пожалуйста, ФИО и почтовый адрес.
test-next-now = Осталось попыток: { $left }. Можно пройти тест ещё раз прямо сейчас.
test-next-after-pause = Осталось попыток: { $left }. Следующую можно начать { $at }; тест открыт до { $closes } включительно.
test-next-no-attempts = Попытки закончились. Напишите нам, пожалуйста, — подскажем, как быть: { $contacts }.
test-next-too-late = Следующая попытка откроется уже после закрытия аттестации. Напишите нам, пожалуйста, — подскажем, как быть: { $contacts }.
test-already-passed =
    ✅ Итоговая аттестация по курсу «{ $course }» сдана: { $score } из { $total }.
    { $next }
test-pause = Итоговая аттестация по курсу «{ $course }»: следующую попытку можно начать { $at }. Осталось попыток: { $left }.
test-no-attempts = Итоговая аттестация по курсу «{ $course }»: попытки закончились. Напишите нам, пожалуйста, — подскажем, как быть: { $contacts }.
test-closed = Итоговая аттестация по курсу «{ $course }» закрыта: тест можно было пройти до { $closes } включительно. Если вы не успели, напишите нам, пожалуйста: { $contacts }.
test-opened =
    📝 <b>Итоговая аттестация открыта</b>
    Курс «{ $course }». Тест можно пройти до { $closes } включительно — это займёт немного времени.
test-closing =
    ⏳ До закрытия итоговой аттестации по курсу «{ $course }» { $days ->
        [one] остался { $days } день
        [few] осталось { $days } дня
       *[many] осталось { $days } дней
    }: тест открыт до { $closes } включительно. Без него документ о квалификации выдать не получится.
stage-test-not-yet = Итоговая аттестация откроется { $opens }.
stage-test-open = Итоговая аттестация открыта до { $closes } включительно.
stage-test-running = Идёт попытка итогового теста — её можно продолжить.
stage-test-pause = Итоговый тест не сдан; следующая попытка — { $at }.
stage-test-passed = Итоговый тест сдан: { $score } из { $total }. { $next }
stage-test-failed = Итоговый тест не сдан. Напишите нам — подскажем, как быть.
stage-document-sample = Образец документа о квалификации ждёт вашей проверки: подтвердите ФИО и адрес в сообщении с образцом или напишите «Подтверждаю».
stage-document-confirmed = Данные документа подтверждены — готовим его к печати.
stage-document-printed = Документ о квалификации напечатан — скоро отправим его заказным письмом.
stage-document-posted = Документ о квалификации отправлен заказным письмом, трек-номер { $tracking }.
registration-prefix-certificate = ПК
registration-prefix-diploma = ПП
registration-prefix-svidetelstvo = ПО
sample-file-name = Образец-{ $number }.pdf
sample-caption = Электронный образец: { $document }
doc-sample-check-request =
    Мы подготовили электронный образец вашего документа. Пожалуйста, проверьте, правильно ли написаны фамилия, имя и отчество: именно так они будут напечатаны на бланке.
    Если всё верно, подтвердите, пожалуйста. Если нужно исправить, напишите, как правильно.
sample-check =
    🎓 <b>Образец документа</b>: { $document }, курс «{ $course }»

    { $request }

    ФИО (в именительном падеже, как на бланке): <b>{ $name }</b>
    Почтовый адрес для заказного письма с документом: <b>{ $address }</b>

    После подтверждения данные фиксируются, и документ уходит в печать.
btn-sample-confirm = ✅ ФИО и адрес верны
btn-sample-name = ✏️ Исправить ФИО
btn-sample-address = ✏️ Исправить адрес
sample-letter-subject = Образец документа о квалификации — проверьте данные — { $school }
sample-letter =
    Здравствуйте!

    Итоговая аттестация по курсу «{ $course }» сдана. { $request }
    Документ: { $document }. Файл образца — во вложении.

    ФИО (в именительном падеже, как на бланке): { $name }
    Почтовый адрес для заказного письма с документом: { $address }

    Если всё верно, ответьте на это письмо словом «Подтверждаю». Если нужно исправить, напишите в ответе правильные ФИО или адрес с индексом — или нажмите кнопку в нашем Telegram-боте.

    { $school }
sample-confirmed =
    ✅ Спасибо! Данные документа подтверждены:
    ФИО: <b>{ $name }</b>
    Адрес: <b>{ $address }</b>

    Мы напечатаем документ и отправим его заказным письмом Почты России — трек-номер пришлю сюда. Изменить данные теперь можно только через сотрудников учебного центра: { $contacts }.
sample-already-confirmed = Данные уже подтверждены.
sample-outdated = Этот образец устарел — проверьте, пожалуйста, последний.
sample-locked = Данные документа уже подтверждены и переданы в печать. Чтобы что-то изменить, напишите, пожалуйста, сотрудникам учебного центра: { $contacts }.
sample-ask-name =
    Напишите, пожалуйста, ФИО полностью — в именительном падеже, как они должны стоять в документе: Фамилия Имя Отчество.
    Сейчас в образце: <b>{ $name }</b>
sample-ask-address =
    Напишите, пожалуйста, почтовый адрес с индексом — на него придёт заказное письмо с документом. Например: 620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12.
    Сейчас в образце: <b>{ $address }</b>
sample-field-name = ФИО
sample-field-address = Почтовый адрес
sample-unchanged = Так уже написано в образце. Если всё верно, нажмите «ФИО и адрес верны» под образцом.
sample-correction-note = { $field }: «{ $old }» → «{ $new }»
sample-corrected = ✏️ Исправлено — { $field }: <b>{ $value }</b>. Готовлю новый образец, он придёт следующим сообщением.
doc-sample-error-name-character = В ФИО есть знак «{ $character }», который нельзя напечатать на бланке. Пожалуйста, напишите ФИО так, как в паспорте.
doc-sample-error-internal = Не получилось подготовить образец документа. Мы уже разбираемся и пришлём его в ближайшее время.
btn-staff-track = 📮 Ввести трек-номер
btn-track-letter = 📮 Отследить письмо
staff-track-ask = Пришлите ответом на это сообщение трек-номер письма с документом рег. № { $registration } ({ $name }): 14 цифр или 13 знаков вида RA123456785RU. Зачисление № { $enrollment }
post-arrived = 📬 Письмо с вашим документом о квалификации (трек-номер { $number }) прибыло в почтовое отделение. Получить его можно по паспорту — извещение может и не прийти.
post-delivered = ✅ Письмо с документом о квалификации (трек-номер { $number }) вручено. Поздравляем с окончанием обучения!
