## Electronic sample of the qualification document (instruction, step 6).
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

## Sent with the sample (e-mail body / Telegram caption).
doc-sample-check-request =
    Мы подготовили электронный образец вашего документа. Пожалуйста, проверьте, правильно ли написаны фамилия, имя и отчество: именно так они будут напечатаны на бланке.
    Если всё верно, подтвердите, пожалуйста. Если нужно исправить, напишите, как правильно.

## RenderError mapped for the learner (uchbot::certificate::RenderError).
# UnsupportedCharacter { field: Field::FullName, character }: $character is the character.
doc-sample-error-name-character = В ФИО есть знак «{ $character }», который нельзя напечатать на бланке. Пожалуйста, напишите ФИО так, как в паспорте.
# Any other RenderError or WordingError: a fault on our side, logged for the operator.
doc-sample-error-internal = Не получилось подготовить образец документа. Мы уже разбираемся и пришлём его в ближайшее время.
