## Offline question bank for ai-interviewer (English).
## These questions are asked in order when the language model is unavailable or no API key
## is configured. They cannot react to the expert's answers, so each stage is written as
## a sequence: it opens with a real case and probes it before asking for the general rule,
## and later questions refer back to the case the earlier ones asked for.
## Rules: one question per message (one question mark); no two questions ask the same thing;
## the first question of each stage carries its own short transition.
## Ids: question-<stage>-<n>, numbered from 1 without gaps within each stage.

## Stage: greeting — welcome, format, how to address the expert, what stays private.

question-greeting-1 = Welcome, and thank you for making time for this. Over the next 90–120 minutes I'll ask about your work, one question at a time: who you are and what you do, how the work actually runs, where it goes wrong, and how you learned it all. Answer in your own words; real cases and examples are worth the most, and you can skip any question or stop and continue later. At the end you'll receive a written report of your knowledge. To start, how would you like me to address you?
question-greeting-2 = In a sentence or two, what field do you work in?
question-greeting-3 = What would make this conversation worth your time?
question-greeting-4 = Before we begin: is there anything you'd rather not go into, such as client names or exact figures?

## Stage: profiling — role, domain, years of practice, context, reputation.

question-profiling-1 = Let's start with your work as it is today. What is your role, and what fills a typical week?
question-profiling-2 = How long have you been in this field, and which roles have you held along the way?
question-profiling-3 = What setting do you work in: the kind of organisation or clients, the size of the team, and what is at stake when something goes wrong?
question-profiling-4 = Think of the last time a colleague came to you specifically for help. What did they need, and why did they come to you rather than someone else?

## Stage: essence — the core of the expertise, from a piece of work to its principles.

question-essence-1 = Now to the heart of your expertise. Think of a piece of work from the last year or two that shows what you do best: what was it, and how did it go?
question-essence-2 = What in that piece of work would a competent but less experienced colleague have done differently?
question-essence-3 = If you had to tell a smart outsider what your work really comes down to, what would you say?
question-essence-4 = Which rule do you work by without ever saying it out loud, and what experience taught it to you?
question-essence-5 = Which common belief in your field has your own experience proved wrong?

## Stage: operations — the task diagram: one real task, its steps, the hard ones, their cues.

question-operations-1 = Let's turn to how the work actually gets done. Think of the last time you carried out the central task of your job from start to finish: what was the task, and what was the situation?
question-operations-2 = If you split that task into three to six big steps, from the first move to the finished result, what would the steps be?
question-operations-3 = Which of those steps are the hardest, the ones where experience makes the biggest difference?
question-operations-4 = In the hardest of those steps, what do you look at or listen for to decide what to do next?
question-operations-5 = Which tool, document or checklist would you miss most in that work, and why?
question-operations-6 = Beyond that one task, which rules of thumb help you decide quickly, of the kind "when I see this, I do that"?

## Stage: expertise_map — knowledge-audit probes on real cases, then the map and its learning order.

question-expertise_map-1 = Now let's look at what your experience lets you see. Recall a situation where you noticed something that the people around you missed: what was it, and what gave it away?
question-expertise_map-2 = Think of a time you saw where a situation was heading well before it got there: what told you?
question-expertise_map-3 = What trick or habit of yours saves time or trouble but isn't written down anywhere?
question-expertise_map-4 = Recall a case where something felt off not because of what happened, but because of what didn't: what was missing, and what did it tell you?
question-expertise_map-5 = In situations like the ones you've just described, what would a newcomer most likely get wrong?
question-expertise_map-6 = Stepping back from the cases: what are the main areas of knowledge and skill your work rests on?
question-expertise_map-7 = In what order should someone learn those areas, from the foundations to the most advanced?

## Stage: failure_modes — one real incident in three passes: timeline, decision points, what if; then warning signs.

question-failure_modes-1 = Let's talk about failures, through one real incident from your own work: a time when something went wrong, or nearly did, and your judgement made a difference. A near miss counts too. Briefly, what happened, from start to finish?
question-failure_modes-2 = Let's lay that incident out in order. What were the key moments, from the first sign of trouble to the end?
question-failure_modes-3 = Take the moment in that incident when the most depended on your decision. What did you notice then that told you what was going on?
question-failure_modes-4 = At that moment, what were you trying to achieve first of all, and what were you prepared to give up?
question-failure_modes-5 = Which options did you have at that point, and what made you choose the one you did?
question-failure_modes-6 = Which detail of that situation, had it been different, would have made you act differently?
question-failure_modes-7 = If a newcomer had been in your place that day, what would they most likely have done, and where would it have led?
question-failure_modes-8 = Beyond that incident: which early warning signs do you watch for now, so that things never get that far?

## Stage: mastery — expert and novice contrasted on a real case; intuition; judgement; the best in the field.

question-mastery-1 = Let's turn to mastery. Think of a recent hard case where your experience really showed: what did you see at a glance that a newcomer would have missed or worked out only slowly?
question-mastery-2 = What did you deliberately leave aside in that case that a newcomer would have spent time worrying about?
question-mastery-3 = Recall a moment when your instinct told you something before you could explain it: looking back, what was it picking up on?
question-mastery-4 = When do you knowingly depart from the standard rules of your field, and how do you know it's the right call?
question-mastery-5 = Think of the best person in your field you have worked with: what did they do that a merely good professional doesn't?

## Stage: growth_path — how the expert learned, how to learn faster, and teach-back.

question-growth_path-1 = Now to how you got this good. Which experience taught you the most, and what exactly did it teach you?
question-growth_path-2 = Which people, books, courses or other sources really shaped the way you work, and what did you take from each?
question-growth_path-3 = Looking back, what do you wish you had started doing much earlier?
question-growth_path-4 = How can someone tell they have moved from competent to truly good in your field?
question-growth_path-5 = Suppose you had three months to teach a capable newcomer the hardest part of your work: how would you spend those three months, month by month?
question-growth_path-6 = At the end of those three months, how would you check that they had really got it?

## Stage: wrap_up — what was missed, corrections, who it is for, the one thing to pass on.

question-wrap_up-1 = We're nearly done. What about your work have we not talked about that we should have?
question-wrap_up-2 = Is there anything you said earlier that you would now correct or put differently?
question-wrap_up-3 = Who do you most hope will read the report of this conversation, and what should it change in how they work?
question-wrap_up-4 = Thank you for your time and for speaking so openly. One last question: if only one thing from today could be passed on, what should it be?

## The offline interviewer listening. Variants without the case: asked instead of the question
## of the same number when no answer of the stage has told a particular case to build on.
## Ids: question-<stage>-<n>-general; question-<stage>-<n>-walked is asked instead when the
## expert has already walked through an incident, so that no second one is asked for.

question-essence-2-general = In your kind of work, what would a competent but less experienced colleague typically do differently from you?
question-operations-2-general = If you split the central task of your job into three to six big steps, from the first move to the finished result, what would the steps be?
question-expertise_map-5-general = In the tricky situations of your work, what would a newcomer most likely get wrong?
question-failure_modes-2-general = When things start to go wrong in your work, how does it usually unfold, from the first sign of trouble to the end?
question-failure_modes-3-general = When something starts going wrong, what is the first thing you notice that tells you what is really going on?
question-failure_modes-4-general = When a lot depends on your decision, what do you try to achieve first of all, and what are you prepared to give up?
question-failure_modes-5-general = When there are several ways out of trouble, what makes you choose one over the others?
question-failure_modes-6-general = Which details of a situation most often change what you decide to do?
question-failure_modes-7-general = If a newcomer ran into serious trouble in your work, what would they most likely do, and where would it lead?
question-mastery-1-walked = Let's turn to mastery. Think back to the incident you walked me through: what did you see at a glance that a newcomer would have missed or worked out only slowly?
question-mastery-2-general = In hard cases, what do you deliberately leave aside that a newcomer would spend time worrying about?

## Each personality's own voice offline: the probe for a real example after a thin answer,
## and the read-back of steps or an incident in the expert's words (intro, their words, ask).
## Ids: offline-probe-<style>, offline-readback-<style>, offline-readback-ask-<style>.

offline-probe-master_interviewer = Could you take me to one specific time this happened recently: what was the situation, and what did you do?
offline-readback-master_interviewer = Let me read that back in your own words:
offline-readback-ask-master_interviewer = Have I got it right, or is something missing or out of order?
offline-probe-telegram_optimized = Got it. Can you give one real example from the last few months?
offline-readback-telegram_optimized = Checking I've got it:
offline-readback-ask-telegram_optimized = Is that right?
offline-probe-conversational_balance = That makes sense. I'd love to hear about one particular time, a recent one if you can: what happened?
offline-readback-conversational_balance = So, if I followed you, in your words:
offline-readback-ask-conversational_balance = Did I get that right, or would you put any of it differently?
offline-probe-stage_specific = Let's stay with this a little longer. Which recent case shows it best, and how did it unfold?
offline-readback-stage_specific = Before we go further, here is what you told me, in your words:
offline-readback-ask-stage_specific = Is that accurate, and is anything missing from it?
offline-probe-conversation_management = No problem, general questions are hard to answer. Let's make it concrete: when did you last actually run into this, and what happened?
offline-readback-conversation_management = I want to be sure I have it down correctly. You said:
offline-readback-ask-conversation_management = Is that right, or should I correct anything?

## Each personality's own transition into a stage: it takes the place of the first sentence
## of the stage's opening question (the short personality drops it; the master interviewer
## keeps the bank's). Ids: offline-transition-<style>-<stage>.

offline-transition-conversational_balance-profiling = Thank you, that helps. I'd like to start with your work as it is now.
offline-transition-conversational_balance-essence = That gives me a good picture of your work. Now I'm curious about what lies at its heart.
offline-transition-conversational_balance-operations = I'd like to hear how the work actually gets done, day to day.
offline-transition-conversational_balance-expertise_map = You've told me a lot already; now I'd like to look at what your experience lets you see.
offline-transition-conversational_balance-mastery = I'd love to understand what mastery looks like in your work.
offline-transition-conversational_balance-growth_path = Let's talk about how you got this good.
offline-transition-conversational_balance-wrap_up = We've covered a lot together, and we're nearly at the end.
offline-transition-stage_specific-profiling = This part is about you: your role, your experience and your setting.
offline-transition-stage_specific-essence = This part is about the core of what you do, so I'll stay on it for a while.
offline-transition-stage_specific-operations = This part is about how your work is done, step by step.
offline-transition-stage_specific-expertise_map = This part is about what your experience lets you notice that others miss.
offline-transition-stage_specific-mastery = This part is about mastery: what separates the best from the merely good.
offline-transition-stage_specific-growth_path = This part is about how you learned your craft and how others could learn it faster.
offline-transition-stage_specific-wrap_up = This is the last part: anything missing, and what to pass on.
offline-transition-conversation_management-profiling = There are no wrong answers here; let's start simply, with your work as it is today.
offline-transition-conversation_management-essence = Next, something that can take a moment to put into words: the heart of your work.
offline-transition-conversation_management-operations = Now something practical: how the work actually gets done.
offline-transition-conversation_management-expertise_map = Now let's look at what your experience lets you see; small examples are fine.
offline-transition-conversation_management-mastery = Now to mastery; a single good example is enough.
offline-transition-conversation_management-growth_path = Now to how you learned all this; rough memories are fine.
offline-transition-conversation_management-wrap_up = We're nearly done; thank you for staying with me.
