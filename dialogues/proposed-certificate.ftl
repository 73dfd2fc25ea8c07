## Texts for sending the sample (issue 5): merged into ru.ftl when the code uses them.

## Sent with the sample (e-mail body / Telegram caption).
doc-sample-check-request =
    Мы подготовили электронный образец вашего документа. Пожалуйста, проверьте, правильно ли написаны фамилия, имя и отчество: именно так они будут напечатаны на бланке.
    Если всё верно, подтвердите, пожалуйста. Если нужно исправить, напишите, как правильно.

## RenderError mapped for the learner (uchbot::certificate::RenderError).
# UnsupportedCharacter { field: Field::FullName, character }: $character is the character.
doc-sample-error-name-character = В ФИО есть знак «{ $character }», который нельзя напечатать на бланке. Пожалуйста, напишите ФИО так, как в паспорте.
# Any other RenderError or WordingError: a fault on our side, logged for the operator.
doc-sample-error-internal = Не получилось подготовить образец документа. Мы уже разбираемся и пришлём его в ближайшее время.
