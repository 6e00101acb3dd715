# 구매 이후의 여정: 시청 감사, 사용 후기 문의, 생일, 다시 찾아 주세요, 라이브 알림, 동의 재안내.

journey-engaged-thanks = 「{ $broadcast }」 라이브를 함께 봐 주셔서 고마워요! 다음 라이브 소식을 먼저 받아 보시려면 아래 버튼을 눌러 주세요.
journey-checkin = { $name }님, 받으신 { $items }{ JOSA($items, "은/는") } 잘 쓰고 계신가요? 별점으로 알려 주시면 큰 힘이 돼요.
journey-checkin-thanks = 알려 주셔서 고마워요! 다음에도 마음에 드는 상품으로 찾아뵐게요.
journey-checkin-sorry = 불편을 드려 죄송해요. 아래 버튼을 누르시면 직원이 직접 도와드릴게요.
journey-birthday = 생일 축하드려요! 🎂 오늘 하루 행복한 일만 가득하시길 바라요.
journey-birthday-coupon = 생일 축하드려요! 🎂 작은 선물로 생일 쿠폰을 드려요: { $code }
    결제할 때 입력해 주세요.
journey-winback-a = 오랜만이에요! 요즘 새로 들어온 상품이 많아요. 라이브에서 다시 만나면 좋겠어요.
journey-winback-b = 잘 지내셨어요? 다음 라이브에서 반가운 얼굴을 다시 뵙고 싶어요.
journey-winback-category-a = 오랜만이에요! 지난번 { $category } 마음에 드셨나요? 새로 들어온 { $category } 상품도 라이브에서 소개해 드릴게요.
journey-winback-category-b = 잘 지내셨어요? { $category }{ JOSA($category, "을/를") } 좋아하셨던 게 생각나서 연락드려요. 이번 시즌 { $category } 신상품이 준비돼 있어요.
journey-welcome-back = 다시 찾아 주셔서 정말 반가워요! 🙌 이번 주문도 정성껏 준비해서 보내 드릴게요.
alert-live-scheduled = 📺 라이브 예고: 「{ $title }」{ $starts }에 시작해요. { $url }
alert-live-now = 🔴 지금 라이브 중이에요: 「{ $title }」 { $url }
button-alerts-on = 라이브 알림 받기
alerts-usage = 사용법: /alerts on 또는 /alerts off
alerts-on = 다음 라이브가 잡히면 알려 드릴게요. 그만 받으시려면 /alerts off
alerts-off = 라이브 알림을 그만 보내 드릴게요.
alerts-need-consent = 라이브 알림은 광고성 정보라서 광고 수신에 먼저 동의하셔야 받으실 수 있어요.

consent-renotice = { $shop } 광고성 정보 수신 동의 안내: { $date }에 수신에 동의하셨어요. 계속 받으시려면 아무것도 하지 않으셔도 되고, 그만 받으시려면 언제든 /stop 을 보내 주세요.
consent-changed-marketing-yes = { $shop } 광고성 정보 수신에 동의하신 것으로 기록했어요. (처리일: { $date }) 언제든 /stop 으로 철회할 수 있어요.
consent-changed-marketing-no = { $shop } 광고성 정보 수신 동의가 철회된 것으로 기록했어요. (처리일: { $date }) 주문·배송 알림은 그대로 보내 드려요.
consent-changed-night-yes = { $shop } 야간({ $hours }) 광고성 정보 수신에 동의하신 것으로 기록했어요. (처리일: { $date })
consent-changed-night-no = { $shop } 야간({ $hours }) 광고성 정보 수신 동의가 철회된 것으로 기록했어요. (처리일: { $date })
journey-cart-reminder = 장바구니에 담아 두신 { $others ->
        [0] { $first }{ JOSA($first, "이/가") }
       *[other] { $first } 외 { $others }개 상품이
    } 아직 기다리고 있어요. 필요하실 때 편하게 둘러보고 주문해 주세요. 🛒
journey-digest = 📬 이번 주 { $shop } 소식이에요.{ $count ->
        [0] {""}
       *[other] {"\u000A"}다가오는 라이브:{"\u000A"}{ $lives }
    }{ $vip ->
        [yes] {"\u000A"}💎 VIP 라운지에 새 소식이 올라왔어요. VIP 고객님께 먼저 전해 드려요.
       *[no] {""}
    }
journey-digest-live = • 「{ $title }」 { $starts }

# 개인 맞춤 추천: 지난번 산 상품과 함께 쓰기 좋은 상품이 다음 라이브에 나올 때.
alert-live-scheduled-pick = 📺 라이브 예고: 「{ $title }」{ $starts }에 시작해요.
    지난번 { $bought } 잘 쓰고 계시죠? 함께 쓰기 좋은 { $pick }{ JOSA($pick, "이/가") } 이번 라이브에 나와요. { $url }

# 신뢰 회복(원인별 다시 찾아 주세요): 공감 → 바뀐 점(/changed) → 초대, 이 순서로.
journey-trust-delivery-a = 지난번 주문이 늦게 도착해서 오래 기다리시게 했어요. 정말 죄송했어요.
    { $changed ->
        [yes] 그 뒤로 이렇게 바꿨어요: { $note }
       *[no] 그 뒤로 주문이 늦지 않도록 출고 과정을 처음부터 다시 살펴봤어요.
    }
    다음 라이브에서 다시 뵐 수 있으면 좋겠어요.
journey-trust-delivery-b = 기다리시던 상품이 늦어져서 많이 답답하셨죠. 그 마음 잘 알아요.
    { $changed ->
        [yes] 그래서 바꿨어요: { $note }
       *[no] 그래서 배송 일정을 더 꼼꼼하게 챙기고 있어요.
    }
    이번에는 제때 보내 드릴게요. 라이브에서 기다릴게요.
journey-trust-quality-a = 지난번 상품이 기대에 못 미쳐서 정말 속상하셨을 것 같아요. 죄송했어요.
    { $changed ->
        [yes] 그 뒤로 이렇게 바꿨어요: { $note }
       *[no] 그 뒤로 상품을 고르고 검수하는 과정을 다시 살펴봤어요.
    }
    다음 라이브에서 다시 한번 기회를 주시면 좋겠어요.
journey-trust-quality-b = 마음에 들지 않는 상품을 받으셔서 실망하셨죠. 솔직한 마음 잘 새겨들었어요.
    { $changed ->
        [yes] 그래서 바꿨어요: { $note }
       *[no] 그래서 소개하는 상품 하나하나를 더 꼼꼼히 확인하고 있어요.
    }
    달라진 모습을 라이브에서 보여 드리고 싶어요.
journey-trust-service-a = 지난번 문의하셨을 때 불편한 점이 많으셨을 거예요. 죄송했어요.
    { $changed ->
        [yes] 그 뒤로 이렇게 바꿨어요: { $note }
       *[no] 그 뒤로 문의에 더 빨리, 더 정확하게 답하도록 응대 방식을 다시 살펴봤어요.
    }
    언제든 편하게 다시 찾아 주세요. 라이브에서 기다릴게요.
journey-trust-service-b = 도움이 필요하셨을 때 충분히 도와드리지 못했던 것 같아요. 그 마음 잘 알아요.
    { $changed ->
        [yes] 그래서 바꿨어요: { $note }
       *[no] 그래서 문의 하나하나에 더 정성껏 답하고 있어요.
    }
    다음 라이브에서 다시 뵐 수 있으면 좋겠어요.
journey-trust-general-a = 오랜만이에요! 그동안 잘 지내셨어요?
    { $changed ->
        [yes] 요즘 이렇게 바뀌었어요: { $note }
       *[no] 요즘 새로 들어온 상품이 많아요.
    }
    라이브에서 다시 만나면 좋겠어요.
journey-trust-general-b = 잘 지내셨어요? 한동안 소식이 없으셔서 궁금했어요.
    { $changed ->
        [yes] 그사이 이렇게 바꿨어요: { $note }
       *[no] 그사이 준비한 상품이 많아요.
    }
    다음 라이브에서 반가운 얼굴을 다시 뵙고 싶어요.
