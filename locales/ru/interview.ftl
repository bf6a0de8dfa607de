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
    [master_interviewer] Системно и тщательно: шаг за шагом, ничего не упуская.
    [telegram_optimized] Короткие сообщения и по одному быстрому вопросу — удобно с телефона.
    [conversational_balance] Непринуждённая беседа, в которой при этом не пропущен ни один этап.
    [stage_specific] Подробно разбирает каждый этап и только потом идёт дальше.
   *[conversation_management] Терпеливо и спокойно: поможет вернуться к теме, если разговор уйдёт в сторону или вы устанете.
}

answer-empty = Похоже, сообщение пустое. Напишите, пожалуйста, ответ — даже пара слов уже поможет.
answer-too-long = В сообщении { $length } символов, а можно не больше { $limit }. Пожалуйста, отправьте его по частям.
session-quarantined = Не удалось прочитать файл вашего прошлого интервью. Он сохранён отдельно, чтобы ничего не пропало, а мы начинаем интервью заново.
internal-error = У нас произошёл сбой. Ваши ответы сохранены — попробуйте ещё раз через минуту.
interview-complete = Интервью завершено. Спасибо, что поделились своим опытом! Вот ваш отчёт.
idle-prompt = С возвращением! Мы остановились { $minutes } мин назад на этапе «{ $stage }». Продолжим с того же места или начнём заново?
resumed = Продолжаем этап «{ $stage }». Вот на чём мы остановились:
no-interview = Незавершённых интервью нет.

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

console-offline = ANTHROPIC_API_KEY не задан: интервью пойдёт по офлайн-банку вопросов.
console-help = Пишите ответы и нажимайте Enter. Команды: /status, /reset, /complete, /quit.
console-resume-choice = Введите r, чтобы продолжить, или s, чтобы начать заново:
console-reset = Прошлое интервью перенесено в архив. Начинаем новое.
console-report-saved = Отчёт сохранён в { $path }
console-bye = Интервью сохранено. Чтобы продолжить, запустите ту же команду. До встречи!
