# Community polls (/poll, /pollclose): the post in a room, the result, the staff chat's answers
# and the answer only the voter sees.

poll-post = 📊 Poll #{ $poll }
    { $question }
    { $options }
    Tap a button below to vote: one vote each, and another button changes it.
poll-post-option = { $n }. { $option }

poll-result = 📊 Poll #{ $poll } result: { $question }
    { $lines }
    { $total ->
        [one] 1 vote in all
       *[other] { $total } votes in all
    }
poll-result-line = { $n }. { $option }: { $votes ->
        [one] 1 vote
       *[other] { $votes } votes
    } ({ $percent }%)

poll-voted = You voted for “{ $option }”. Tap another option to change your vote.
poll-vote-closed = This poll is closed.

staff-usage-poll = Usage: /poll question | option | option … (2 to 10 options)
staff-usage-pollclose = Usage: /pollclose POLL_NUMBER
poll-asked = Poll #{ $poll } goes to { $rooms ->
        [one] 1 community room
       *[other] { $rooms } community rooms
    }. To close it: /pollclose { $poll }
poll-no-rooms = No community room is configured to ask (telegram.community_chat_ids, discord.community_channel_ids).
poll-empty-question = The question is empty. Usage: /poll question | option | option …
poll-empty-option = Option { $number } is empty.
poll-option-count = A poll needs 2 to 10 options; this one has { $count }.
poll-question-too-long = The question is too long: { $length } characters (at most 300).
poll-option-too-long = Option { $number } is too long: { $length } characters (at most 100).
poll-duplicate-option = Option { $number } is the same as an earlier one; options must differ.
poll-unknown = There is no poll #{ $poll }.
poll-closed-already = Poll #{ $poll } is closed already.

period-report-polls = Polls: asked { $asked } · closed { $closed } · votes { $votes }
