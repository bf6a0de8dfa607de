## Interview text shared by every front end: stages, personalities, replies to bad input,
## status, report and console.

stage-name = { $stage ->
    [greeting] Greeting
    [profiling] Profile
    [essence] Essence of the expertise
    [operations] How the work gets done
    [expertise_map] Map of the expertise
    [failure_modes] Failure modes
    [mastery] Mastery
    [growth_path] Growth path
   *[wrap_up] Wrap-up
}

style-name = { $style ->
    [master_interviewer] Master interviewer
    [telegram_optimized] Short and mobile
    [conversational_balance] Conversational
    [stage_specific] Deep dive
   *[conversation_management] Steady guide
}

style-description = { $style ->
    [master_interviewer] Systematic and thorough: covers everything, step by step.
    [telegram_optimized] Short messages, one quick question at a time: made for a phone.
    [conversational_balance] A natural conversation that still covers every stage.
    [stage_specific] Goes deep into each stage before moving on.
   *[conversation_management] Patient and steady: keeps things on track if you drift or get tired.
}

answer-empty = Your message looks empty. Please type your answer: even a few words help.
answer-too-long = That message is { $length } characters long; the limit is { $limit }. Please send it in shorter parts.
session-quarantined = Your previous session file could not be read, so it was set aside safely and a new interview begins.
internal-error = Something went wrong on our side. Your answers so far are saved; please try again in a moment.
interview-complete = That's the end of the interview. Thank you for sharing your expertise! Here is your knowledge report.
idle-prompt = Welcome back! Your interview paused { $minutes } minutes ago at the stage “{ $stage }”. Would you like to resume where you left off, or start over?
resumed = Let's continue with the stage “{ $stage }”. Here is where we stopped:
no-interview = There is no interview in progress.

status-header = Stage { $number } of { $total }: { $stage }
status-style = Interviewer: { $style }
status-stage = { $stage }: { $completeness }% · { $minutes } of { $budget } min
status-totals = Time: { $minutes } of about { $planned } min · answers: { $answers } · insights: { $insights }

report-title = Knowledge report
report-meta = Interview of { $date }: { $minutes } minutes, { $answers } answers.
report-summary = Summary
report-insights = Key insights
report-in-words = In the expert's words
transcript-title = Interview transcript
speaker-interviewer = Interviewer
speaker-expert = Expert

console-offline = No ANTHROPIC_API_KEY set: the interview runs on the offline question bank.
console-help = Type your answers and press Enter. Commands: /status, /reset, /complete, /quit.
console-resume-choice = Type r to resume, or s to start over:
console-reset = The previous interview was archived. A new one begins.
console-report-saved = The report is saved in { $path }
console-bye = Your interview is saved. Run the same command to continue. Goodbye!
