## Тексты интервью, общие для всех интерфейсов: этапы, стили интервьюера, ответы на
## некорректный ввод, статус, отчёт и консоль.

stage-name = { $stage ->
    [greeting] Знакомство
    [profiling] Профиль
    [essence] Суть экспертизы
    [operations] Как устроена работа
    [expertise_map] Карта экспертизы
    [failure_modes] Ошибки и сбои
    [mastery] Мастерство
    [growth_path] Путь развития
   *[wrap_up] Завершение
}

style-name = { $style ->
    [master_interviewer] Мастер-интервьюер
    [telegram_optimized] Коротко, для телефона
    [conversational_balance] Живой разговор
    [stage_specific] Глубокое погружение
   *[conversation_management] Спокойный проводник
}

style-description = { $style ->
    [master_interviewer] Системно и тщательно: шаг за шагом охватывает всё.
    [telegram_optimized] Короткие сообщения, по одному простому вопросу: удобно с телефона.
    [conversational_balance] Естественная беседа, в которой всё равно пройдены все этапы.
    [stage_specific] Подробно разбирает каждый этап, прежде чем двигаться дальше.
   *[conversation_management] Терпеливо и бережно: поможет вернуться к теме, если разговор уйдёт в сторону.
}

answer-empty = Сообщение пустое. Пожалуйста, напишите ответ — даже пара слов поможет.
answer-too-long = В сообщении { $length } символов, а допустимо не больше { $limit }. Пожалуйста, отправьте его частями.
session-quarantined = Файл вашей прошлой сессии не удалось прочитать, поэтому он отложен в сторону, а интервью начинается заново.
internal-error = У нас что-то пошло не так. Ваши ответы сохранены — попробуйте ещё раз через минуту.
interview-complete = Интервью завершено. Спасибо, что поделились своим опытом! Вот ваш отчёт.
idle-prompt = С возвращением! Интервью приостановлено { $minutes } мин назад на этапе «{ $stage }». Продолжим с того же места или начнём заново?
resumed = Продолжаем этап «{ $stage }». Вот на чём мы остановились:
no-interview = Сейчас нет активного интервью.

status-header = Этап { $number } из { $total }: { $stage }
status-style = Интервьюер: { $style }
status-stage = { $stage }: { $completeness }% · { $minutes } из { $budget } мин
status-totals = Время: { $minutes } из примерно { $planned } мин · ответов: { $answers } · выводов: { $insights }

report-title = Отчёт об экспертизе
report-meta = Интервью от { $date }: { $minutes } мин, ответов: { $answers }.
report-summary = Краткое содержание
report-insights = Ключевые выводы
report-in-words = Словами эксперта
transcript-title = Стенограмма интервью
speaker-interviewer = Интервьюер
speaker-expert = Эксперт

console-offline = ANTHROPIC_API_KEY не задан: интервью идёт по офлайн-банку вопросов.
console-help = Пишите ответы и нажимайте Enter. Команды: /status, /reset, /complete, /quit.
console-resume-choice = Введите r, чтобы продолжить, или s, чтобы начать заново:
console-reset = Прошлое интервью перенесено в архив. Начинаем новое.
console-report-saved = Отчёт сохранён в { $path }
console-bye = Интервью сохранено. Запустите ту же команду, чтобы продолжить. До встречи!
