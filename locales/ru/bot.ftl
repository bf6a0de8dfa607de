## Тексты Telegram-бота: настройка, кнопки, команды и уведомления.

welcome = Здравствуйте, { $name }! Я беру интервью у экспертов и превращаю их знания в письменный отчёт. Для начала — на каком языке будем говорить?
choose-language = На каком языке будем говорить?
language-chosen = Язык: русский ✓
language-changed = Готово, дальше говорим по-русски.
choose-style = Выберите интервьюера. Девять этапов у всех одни и те же, различается манера:
style-chosen = Интервьюер: { $style } ✓
briefing =
    Как всё устроено.

    • В интервью девять этапов — от знакомства до того, что вы хотели бы передать другим; на всё уходит полтора-два часа (90–120 минут). Можно делать перерывы: ответы сохраняются после каждого сообщения, и вернуться можно в любой момент.
    • Отвечайте своими словами, коротко или подробно — как удобно. Ценнее всего конкретные истории и примеры.
    • Голосовые сообщения пока не поддерживаются — пожалуйста, отвечайте текстом.
    • /status покажет, где мы сейчас; /complete — завершить досрочно; /help — все команды.

    В конце вы получите письменный отчёт о своей экспертизе.
button-begin = 🚀 Начать
button-english = 🇬🇧 English
button-russian = 🇷🇺 Русский
button-resume = ▶️ Продолжить
button-start-over = 🔄 Начать заново
button-reset-confirm = ✅ Да, в архив
button-delete-confirm = 🗑 Удалить всё
button-cancel = ❌ Отмена
stage-header = Этап { $number }/{ $total } · { $stage }
in-progress = У вас есть незавершённое интервью: этап «{ $stage }», ответов: { $answers }. Продолжим или начнём заново? Если начать заново, текущее интервью уйдёт в архив — ничего не удаляется.
choose-with-buttons = Выберите, пожалуйста, одну из кнопок выше.
send-start = Отправьте /start, чтобы начать интервью.
stale-button = Эта кнопка больше не действует.
cancelled = Отменено.
reset-confirm = Перенести это интервью в архив и начать новое? Ничего не удаляется: текущее интервью сохранится в архиве.
reset-done = Интервью перенесено в архив. Давайте настроим новое.
delete-confirm = Будет стёрто всё, что о вас хранится: текущее интервью, архивные и завершённые интервью, отчёты и настройки. Это нельзя отменить. Удалить всё?
delete-done = Готово: всё, что о вас хранилось, удалено. Если захотите начать снова — отправьте /start.
export-transcript = Интервью на текущий момент — в форматах Markdown и JSON.
report-caption = Ваш отчёт об экспертизе
unknown-command = Такой команды я не знаю. /help — список того, что я умею.
help =
    Я провожу структурированное интервью о вашей экспертизе и оформляю его в письменный отчёт.

    /start — начать или продолжить интервью
    /status — текущий этап, ход интервью и время по плану
    /complete — завершить досрочно и перейти к итогам
    /reset — перенести интервью в архив и начать новое
    /language — переключить язык (русский или английский)
    /export — стенограмма на текущий момент, в Markdown и JSON
    /delete — стереть всё, что о вас хранится
    /help — это сообщение
not-allowed = Извините, это закрытый бот: интервью проводятся только по приглашению.
rate-limited = Ваш ответ получен. Сейчас я не успеваю отвечать так быстро, поэтому отвечу примерно через { $seconds } с; всё, что вы напишете за это время, войдёт в тот же ответ.
private-only = Я провожу интервью один на один. Напишите мне в личные сообщения: откройте мой профиль и нажмите «Начать».
unsupported-message = Я читаю только текстовые сообщения. Пожалуйста, напишите ответ текстом.
voice-unsupported = Голосовые сообщения пока не поддерживаются. Пожалуйста, напишите ответ текстом.
cmd-start = Начать или продолжить интервью
cmd-status = Прогресс и время по плану
cmd-complete = Завершить досрочно и перейти к итогам
cmd-reset = Перенести интервью в архив и начать заново
cmd-language = Сменить язык
cmd-export = Стенограмма на текущий момент (Markdown, JSON)
cmd-delete = Удалить все мои данные
cmd-help = Что я умею

## /metrics, для операторов. Цифры: «сегодня / за всё время»; числа приходят отформатированными.
metrics-title = 📊 ai-interviewer { $version }, работает { $uptime }
metrics-legend = Цифры: сегодня (UTC) / за всё время.
metrics-interviews = Интервью: идёт сейчас { $active } · начато { $started_today } / { $started_all } · завершено { $completed_today } / { $completed_all } ({ $rate } от начатых) · брошено { $abandoned_today } / { $abandoned_all }
metrics-answers = Ответы: текстом { $text_today } / { $text_all } · голосом { $voice_today } / { $voice_all }
metrics-claude = Запросы к Claude: { $calls_today } / { $calls_all } · успешных { $success_today } / { $success_all }
metrics-latency = Время ответа Claude по последним запросам ({ $calls }): p50 { $p50 } с · p95 { $p95 } с
metrics-latency-none = Время ответа Claude: запросов ещё не было
metrics-fallbacks = Вопросы из офлайн-банка вместо Claude: сервис недоступен { $upstream_today } / { $upstream_all } · непригодный ответ { $unusable_today } / { $unusable_all } · ошибка настройки { $configuration_today } / { $configuration_all }
metrics-tokens =
    { $period ->
        [today] Токены сегодня
       *[all] Токены за всё время
    }: на входе { $input } · на выходе { $output } · записано в кэш { $cache_write } · прочитано из кэша { $cache_read }
metrics-cost = Примерные расходы на Claude: { $today } сегодня · { $all } за всё время · { $per_interview } на завершённое интервью
metrics-transcriptions = Расшифровано голосовых: { $done_today } / { $done_all } · не удалось { $failed_today } / { $failed_all } · всего аудио { $audio_minutes } мин
metrics-transcription-failure =
    • { $kind ->
        [download] не скачалось из Telegram
        [rejected] отклонено (слишком длинное, слишком большое или не аудио)
        [upstream] сбой сервиса расшифровки
        [timeout] не уложилось во время
       *[empty] речь не найдена
    }: { $today } / { $all }
metrics-errors-none = Ошибки: нет
metrics-errors = Ошибки:
metrics-error =
    • { $kind ->
        [polling] опрос Telegram
        [delivery] сообщения не доставлены
        [storage] хранилище
        [quarantine] нечитаемые файлы отложены
       *[internal] внутренние
    }: { $today } / { $all }
metrics-purged = Удалено старых файлов (SESSION_RETENTION_DAYS): { $today } / { $all }
metrics-polled = Последний успешный опрос Telegram: { $ago } назад
metrics-polled-never = Последний успешный опрос Telegram: не зафиксирован
metrics-memory = Память (RSS): { $megabytes } МБ
metrics-memory-unknown = Память: на этой платформе не измеряется
metrics-alarms = ⚠️ Требует внимания
alarm-configuration = Ходов сегодня ушло в офлайн-банк, потому что Claude отклонил запрос (ошибка настройки): { $count }. Проверьте ANTHROPIC_API_KEY и CLAUDE_MODEL, затем журнал.
alarm-upstream = Ходов сегодня ушло в офлайн-банк, потому что Claude был недоступен или перегружен: { $count }.
alarm-unusable = Ходов сегодня ушло в офлайн-банк из-за непригодного ответа Claude (обрезан или искажён): { $count }. Если это повторяется, увеличьте CLAUDE_MAX_TOKENS.
alarm-storage = Ошибок хранилища сегодня: { $count }. Проверьте свободное место и права доступа к SESSIONS_DIR.
alarm-delivery = Сообщений, не доставленных в Telegram сегодня: { $count }.
alarm-internal = Внутренних ошибок сегодня: { $count }. Подробности в журнале.
alarm-quarantine = Нечитаемых файлов, отложенных сегодня в quarantine/: { $count }.
alarm-transcription = Не удалось расшифровать голосовых сегодня: { $failed } из { $total }.
alarm-unpriced = Цена модели { $model } неизвестна: её токены не вошли в расходы.
alarm-polling = Успешных опросов Telegram нет уже { $ago }.
unit-days = { $n } д
unit-hours = { $n } ч
unit-minutes = { $n } мин
unit-seconds = { $n } с
