## Offline question bank for ai-interviewer (English).
## These questions are used when the language model is unavailable or no API key
## is configured. They cannot react to the expert's answers, so each one is
## open, works for any field and builds on the previous questions of its stage.
## Ids: question-<stage>-<n>, numbered from 1 without gaps within each stage.

## Stage: greeting — welcome, format, rapport, how to address the expert.

question-greeting-1 = Welcome, and thank you for making time for this. We'll go through nine stages over roughly 90–120 minutes, and you can answer in as much detail as you like — the more concrete, the better. To start, how would you like me to address you, and what field do you work in?
question-greeting-2 = What made you agree to share your expertise, and what would you like to come out of this conversation?

## Stage: profiling — role, domain, years of experience, context, reputation.

question-profiling-1 = Let's start with a picture of your work. What is your current role, and what does it actually involve on a typical week?
question-profiling-2 = How long have you been doing this kind of work, and what were the main steps or turning points that brought you to where you are now?
question-profiling-3 = In what setting do you work — the kind of organisation or clients, the size of the team, the scale of what's at stake when things go well or badly?
question-profiling-4 = What are you known for among colleagues? When people come to you specifically, what do they usually come with?

## Stage: essence — the core of the expertise, what sets it apart, principles.

question-essence-1 = Let's get to the heart of your expertise. If you had to explain to a smart outsider what your work really comes down to, how would you put it in a few sentences?
question-essence-2 = What do you do, or notice, that a competent colleague with less experience typically doesn't? Please give a specific example.
question-essence-3 = Which principles or rules of thumb guide your work, even if you rarely say them out loud? Name two or three and say where each one came from.
question-essence-4 = Which widely held belief in your field do you disagree with, and what has your experience shown you instead?
question-essence-5 = Think of a piece of work you're genuinely proud of. What was it, and what in it shows your expertise best?

## Stage: operations — day-to-day workflows, tools, decisions, heuristics.

question-operations-1 = Let's turn to how your work actually gets done. Pick a typical task or project and walk me through it step by step, from the moment it lands on your desk to the moment it's finished.
question-operations-2 = In that process, where are the key decision points, and what information do you look at to make each decision?
question-operations-3 = Which tools, instruments, documents or checklists do you rely on, and which of them would you find hardest to work without?
question-operations-4 = What quick rules or shortcuts do you use to decide faster — for example, "if I see X, I do Y"? Please share a few with the situations they apply to.
question-operations-5 = How do you decide what to do first when several things need your attention at once? Tell me about a recent day when you had to make that call.
question-operations-6 = How do you know a piece of work is done and done well? What do you check before you let it go?

## Stage: expertise_map — areas of knowledge, sub-skills, basic vs advanced, connections.

question-expertise_map-1 = Let's map out your knowledge. If you split your expertise into its main areas or sub-skills, what would they be?
question-expertise_map-2 = Which of those areas are the foundation that everyone in your field must have, and which are advanced skills that only experienced people master?
question-expertise_map-3 = How do those areas connect? Give an example of a situation where you had to combine several of them at once.
question-expertise_map-4 = Which part of your knowledge is hardest to put into words or to find in any textbook or course, and how did you acquire it?
question-expertise_map-5 = What do you need to know from neighbouring fields or disciplines to do your job well, and how did that knowledge come into play in a real case?
question-expertise_map-6 = Which parts of your field have changed the most in recent years, and which parts of your knowledge have stayed just as useful?

## Stage: failure_modes — mistakes, what goes wrong, warning signs, recoveries, novice errors.

question-failure_modes-1 = Let's talk about what goes wrong. What are the most common ways work in your field fails, or turns out worse than it should?
question-failure_modes-2 = Tell me about a mistake you made yourself that taught you something important. What happened, and what do you do differently because of it?
question-failure_modes-3 = What early warning signs tell you that something is starting to go wrong, before it becomes obvious to everyone else?
question-failure_modes-4 = When something has already gone wrong, how do you recover? Walk me through a specific case where you had to put things right.
question-failure_modes-5 = What do newcomers most often get wrong, and why do you think they fall into those traps?
question-failure_modes-6 = Which mistakes are the most expensive or dangerous in your field, and what do you do to make sure they never happen on your watch?

## Stage: mastery — what separates the best from the good, judgement, intuition made explicit.

question-mastery-1 = Let's look at what real mastery means in your field. Think of the very best person you've worked with or know of: what did they do that merely good professionals don't?
question-mastery-2 = Tell me about a time your gut told you something before you could explain it. What did you sense, and what do you think you were actually picking up on?
question-mastery-3 = In which situations do you deliberately break the standard rules or procedures, and how do you judge when that is the right call?
question-mastery-4 = Describe a tough call where the situation was ambiguous and reasonable people would have disagreed. How did you weigh the options, and how did it turn out?
question-mastery-5 = If you were judging someone's level in your field, what would you watch them do or ask them, to tell a true master from a solid professional?

## Stage: growth_path — how they learned, faster learning, resources, milestones.

question-growth_path-1 = Let's turn to how expertise like yours is built. How did you actually learn your craft, and which experiences taught you the most?
question-growth_path-2 = Which people, books, courses or other resources made a real difference to your development, and what exactly did you take from each?
question-growth_path-3 = What are the key milestones on the way from beginner to expert in your field, and how can someone tell they've reached each one?
question-growth_path-4 = If you were mentoring a motivated newcomer today, what would you have them do in their first year to learn faster than you did?
question-growth_path-5 = Looking back on how you learned, what do you wish you had started paying attention to much earlier, and why?

## Stage: wrap_up — anything missed, the most important thing to pass on, closing.

question-wrap_up-1 = We're nearly at the end. Is there anything important about your work that we haven't touched on, or that you'd like to add to an earlier answer?
question-wrap_up-2 = If only one thing from this whole conversation could be passed on to the next generation in your field, what should it be?
question-wrap_up-3 = Thank you very much for your time and for sharing so openly — this is the last question. What is your final word, or the one piece of advice you'd leave for someone starting out in your field?
