# 별점, 후기, 상담원 연결, 자주 묻는 질문.

thank-you-rating-ask = 오늘 방송과 상품은 어떠셨어요? 아래에서 1~5점을 눌러 주세요. (5점이 최고예요)
rating-1 = 1
rating-2 = 2
rating-3 = 3
rating-4 = 4
rating-5 = 5
button-talk-to-person = 👩 직원과 이야기하기

feedback-thanks = 소중한 { $rating }점 고마워요! 더 하고 싶은 말씀이 있으면 30분 안에 이 채팅에 남겨 주세요. 꼭 읽어 볼게요.
feedback-thanks-low = { $rating }점을 주셨네요. 만족스럽지 못하셨다니 정말 죄송해요. 어떤 점이 아쉬웠는지 30분 안에 남겨 주시거나, 바로 직원과 이야기하실 수 있어요.
feedback-changed = 별점을 { $rating }점으로 바꿨어요. 고마워요!
feedback-changed-low = 별점을 { $rating }점으로 바꿨어요. 불편하셨던 점이 있다면 직원이 직접 도와드릴게요.
feedback-comment-thanks = 남겨 주신 의견 잘 받았어요. 다음 방송을 준비할 때 꼭 참고할게요. 고마워요!
feedback-help-thanks = 상담 평가 고마워요. 더 나은 도움을 드리도록 할게요.
feedback-reflected = 지난번에 "{ $said }"라고 말씀해 주셨죠. 그 의견을 반영했어요: { $note }
    소중한 의견 고마워요!

handoff-ack = 직원에게 연결해 드렸어요 (문의 #{ $ticket }). 불편을 드려 죄송해요. { $hours }시간 안에 직원이 직접 답해 드릴게요. 그동안 남기시는 말씀과 사진은 모두 직원에게 전달돼요.
handoff-already-open = 이미 직원과 연결된 문의(#{ $ticket })가 있어요. 여기에 남기시는 말씀은 직원에게 바로 전달돼요.
handoff-confirm = 직원과 직접 이야기하시겠어요? 아래 버튼을 누르시면 연결해 드릴게요.
handoff-staff-reply = 💬 직원: { $text }
handoff-closed = 문의 #{ $ticket } 상담이 끝났어요. 도움이 되셨나요? 1~5점으로 알려 주세요.
handoff-progress = 문의 #{ $ticket } 답변이 늦어지고 있어요. 정말 죄송해요. 잊지 않았고, 직원이 확인하는 대로 바로 답해 드릴게요.
handoff-idle-closed = 문의 #{ $ticket }에 { $days }일 동안 새 대화가 없어서 상담을 마쳤어요. 도움이 더 필요하시면 언제든 /human 을 보내 주세요.

faq-answer = { $answer }
faq-not-found = 죄송해요, 그 질문에 대한 답을 찾지 못했어요. 직원에게 물어보시겠어요?
faq-not-found-again = 두 번이나 답을 찾지 못했네요. 직원과 직접 이야기하시는 게 빠를 것 같아요. 아래 버튼을 눌러 주세요.
