# 커뮤니티 투표 (/poll, /pollclose). 방에 올리는 글, 결과, 직원 채팅방 안내, 투표한 사람에게만 보이는 답.

poll-post = 📊 투표 #{ $poll }
    { $question }
    { $options }
    아래 버튼을 눌러 투표해 주세요. 한 사람에 한 표이고, 다른 버튼을 누르면 바꿀 수 있어요.
poll-post-option = { $n }. { $option }

poll-result = 📊 투표 #{ $poll } 결과: { $question }
    { $lines }
    모두 { $total }표
poll-result-line = { $n }. { $option }: { $votes }표 ({ $percent }%)

poll-voted = ‘{ $option }’에 투표했어요. 다른 선택지를 누르면 바꿀 수 있어요.
poll-vote-closed = 이 투표는 마감됐어요.

staff-usage-poll = 사용법: /poll 질문 | 선택지 | 선택지 … (선택지는 2~10개)
staff-usage-pollclose = 사용법: /pollclose 투표번호
poll-asked = 투표 #{ $poll }{ JOSA($poll, "을/를") } 커뮤니티 방 { $rooms }곳에 올려요. 마감하려면 /pollclose { $poll }
poll-no-rooms = 투표를 올릴 커뮤니티 방이 설정되어 있지 않아요 (telegram.community_chat_ids, discord.community_channel_ids).
poll-empty-question = 질문이 비어 있어요. 사용법: /poll 질문 | 선택지 | 선택지 …
poll-empty-option = { $number }번째 선택지가 비어 있어요.
poll-option-count = 선택지는 2~10개여야 해요. 지금은 { $count }개예요.
poll-question-too-long = 질문이 너무 길어요: { $length }자 (최대 300자).
poll-option-too-long = { $number }번째 선택지가 너무 길어요: { $length }자 (최대 100자).
poll-duplicate-option = { $number }번째 선택지가 앞의 선택지와 같아요. 선택지는 서로 달라야 해요.
poll-unknown = 투표 #{ $poll }{ JOSA($poll, "을/를") } 찾지 못했어요.
poll-closed-already = 투표 #{ $poll }{ JOSA($poll, "은/는") } 이미 마감됐어요.

period-report-polls = 투표: 올림 { $asked } · 마감 { $closed } · 참여 { $votes }표
