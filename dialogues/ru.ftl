## Общие формы

hours = { $count } { $count ->
    [one] час
    [few] часа
   *[many] часов
}
