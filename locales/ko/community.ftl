# 커뮤니티 방, 등급, VIP 방과 VIP 코드, 광고 표시.

room-welcome-names = { $names }님
room-welcome-separator = 님{ ", " }
room-welcome = { $names }, 어서 오세요! 반가워요 👋
room-rules = 이 방의 약속: 서로 존중해 주세요 · 도배는 잠시 말하기가 제한돼요 · 새로 오신 분의 링크는 자동으로 지워져요.
room-welcome-link-telegram = 주문 알림을 받으시려면 저에게 1:1 대화로 /start 를 보내고, 쇼핑몰의 "메신저 연결" 버튼으로 주문 계정을 연결해 주세요.
room-welcome-link-discord = 주문 알림을 받으시려면 쇼핑몰의 "메신저 연결" 버튼에서 받은 코드로 /link 명령어를 써 주세요.
room-broadcast-scheduled = 📺 다음 라이브 예고: 「{ $title }」
    { $starts }에 시작해요. { $url }
room-broadcast-started = 🔴 지금 라이브 중이에요: 「{ $title }」 { $url }
room-muted-notice = { $name }님, 메시지를 너무 빠르게 보내셔서 { $minutes }분 동안 말하기가 제한돼요.
room-link-removed = { $name }님, 새로 오신 분은 들어온 지 { $minutes }분이 지나야 링크를 올릴 수 있어서 메시지를 지웠어요.
staff-member-muted = 🔇 { $name }님({ $platform } { $user })이 커뮤니티 방에서 도배해 { $minutes }분 동안 말하기를 제한했어요. 풀어 주려면 /unmute { $user }
staff-usage-unmute = 사용법: /unmute 사용자ID
staff-unmuted = { $user } 사용자의 말하기 제한을 풀었어요.
staff-not-muted = { $user } 사용자는 지금 말하기 제한 중이 아니에요.
staff-only = 죄송해요, 이 명령어는 직원만 쓸 수 있어요.

tier-congratulation = 축하해요! { $tier } 등급이 되셨어요 🎉 늘 찾아 주셔서 고마워요.
vip-welcome = { $name }님, { $tier } 등급이 되셨어요! 🎉 가장 아끼는 고객님께만 드리는 VIP 혜택을 준비했어요.
vip-room-link = VIP 방 입장 링크(본인 전용): { $link }
vip-room-granted = 이제 { $room } VIP 채널이 보여요.
vip-status-tier = { $name }님의 등급은 { $tier }{ JOSA($tier, "이에요/예요") }.
vip-status-no-tier = { $name }님은 아직 등급이 없어요. 주문이 쌓이면 등급이 올라가요.
vip-status-codes = 받으신 코드:
vip-status-no-codes = 아직 받으신 코드가 없어요.
vip-status-code = • { $code }
vip-status-code-until = • { $code } ({ $date }까지)
vip-code = { $tier } 등급 이상 고객님께만 드리는 코드예요: { $code }
    결제할 때 입력해 주세요. { $until }까지 쓸 수 있어요.
vip-room-code = 💎 { $tier } 등급 이상 전용 코드가 나왔어요: { $code }
vip-post = 💎 VIP 전용 소식
    { $text }
staff-usage-vipcode = 사용법: /vipcode 코드 등급 [expires=7d] 또는 /vipcode pool=캠페인 등급 [expires=7d]
staff-unknown-tier = { $tier } 등급은 없어요. 있는 등급: { $tiers }
staff-vipcode-sent = { $tier } 등급 이상이면서 광고 수신에 동의한 고객 { $count }명에게 코드를 보내요.
staff-pool-empty = ⚠️ 캠페인 { $campaign }의 코드가 모두 소진돼 고객 { $missing }명은 코드를 받지 못했어요. 코드를 더 추가해 주세요(encore import codes 또는 code.pool_added).
staff-usage-vippost = 사용법: /vippost 내용
staff-vippost-no-tiers = 등급이 설정되어 있지 않아 VIP 소식을 보낼 수 없어요.
staff-vippost-sent = VIP 방에 올리고, 광고 수신에 동의한 VIP 고객 { $count }명 중 방에 없는 분께 DM으로 보내요.

ad-label = (광고) { $shop } · 문의 { $contact }
ad-opt-out = 무료수신거부: /stop
