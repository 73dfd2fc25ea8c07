# Proposed by the mail helper: texts for the typed outcomes of email::parse, for the
# letter the bot sends back when some files of a learner's letter were not accepted.
# Ids are suggestions; the lead owns the final names. Sizes are passed already
# formatted in megabytes ("20 МБ"); $count is a number.

# Heading of the reply listing refused files.
mail-refused-heading =
    Спасибо за письмо! Не все вложения удалось принять:

# RefusalReason::TooLarge { size, limit }
mail-refused-too-large =
    «{ $file }» — файл слишком большой ({ $size }); принимаем файлы до { $limit }.
    Уменьшите, пожалуйста, скан или пришлите его частями.

# RefusalReason::TooMany { limit }
mail-refused-too-many =
    «{ $file }» — в одном письме принимаем не больше { $limit ->
        [one] { $limit } файла
       *[other] { $limit } файлов
    }. Пришлите, пожалуйста, остальные отдельным письмом.

# RefusalReason::UnsupportedType { detected }
mail-refused-type =
    «{ $file }» — такой формат мы не принимаем. Пришлите, пожалуйста, PDF или фотографию
    (JPEG, PNG, HEIC).

# ParseError::TooLarge — the whole letter exceeded the limit and was not read.
mail-letter-too-large =
    Ваше письмо оказалось слишком большим ({ $size }), и мы не смогли его прочитать.
    Пришлите, пожалуйста, документы несколькими письмами, до { $limit } каждое.

# Closing line of such replies.
mail-refused-footer =
    Остальные документы получены, сотрудники их проверят. Отвечать на это письмо можно
    прямо из почты — оно дойдёт до нас.
