# 시청자와 나누는 대화: 연결, 동의, 명령어.

start-greeting = 안녕하세요! { $shop } 알림 봇이에요.
    주문 내역과 배송 소식을 받으시려면 쇼핑몰 주문 완료 화면이나 마이페이지의 "메신저 연결" 버튼을 눌러 주세요. 이 채팅이 자동으로 주문 계정과 연결돼요.
start-linked = 이미 { $shop } 주문 계정과 연결되어 있어요. 메뉴는 /help 로 볼 수 있어요.
link-welcome = { $name }님, { $shop } 주문 계정과 연결되었어요! 🎉
    이제 이 채팅으로 주문 감사 인사, 배송 출발·지연 소식 같은 주문 알림을 보내 드릴게요.
link-moved = 이 메신저 계정은 다른 주문 계정에 연결되어 있었는데, 방금 연결로 옮겨졌어요. 본인이 하신 게 아니라면 /unlink 로 연결을 끊어 주세요.
link-token-unknown = 연결 링크를 확인하지 못했어요. 쇼핑몰에서 "메신저 연결" 버튼을 다시 눌러 새 링크를 받아 주세요.
link-token-expired = 연결 링크의 유효 기간이 지났어요. 쇼핑몰에서 "메신저 연결" 버튼을 다시 눌러 주세요.
link-token-used = 이미 사용된 연결 링크예요. 쇼핑몰에서 "메신저 연결" 버튼을 다시 눌러 새 링크를 받아 주세요.

consent-marketing-ask = { $shop }의 할인·신상품·라이브 예고 같은 광고성 정보를 이 메신저로 받아 보시겠어요? 동의하지 않으셔도 주문·배송 알림은 그대로 받으실 수 있고, 언제든 /stop 으로 철회할 수 있어요.
consent-night-ask = 밤 시간({ $hours })에도 { $shop }의 광고성 정보를 받으시겠어요? 동의하지 않으시면 그 시간에는 보내지 않아요.
button-agree = 동의해요
button-decline = 괜찮아요
consent-marketing-yes-confirm = { $shop } 광고성 정보 수신에 동의하셨어요. (처리일: { $date }) 언제든 /stop 으로 철회할 수 있어요.
consent-marketing-no-confirm = { $shop } 광고성 정보 수신에 동의하지 않으셨어요. (처리일: { $date }) 주문·배송 알림은 그대로 보내 드려요.
consent-night-yes-confirm = { $shop } 야간({ $hours }) 광고성 정보 수신에 동의하셨어요. (처리일: { $date })
consent-night-no-confirm = { $shop } 야간({ $hours }) 광고성 정보 수신에 동의하지 않으셨어요. (처리일: { $date }) 광고는 낮 시간에만 보내 드릴게요.
consent-night-needs-marketing = 야간 수신 동의는 광고성 정보 수신에 먼저 동의하셔야 할 수 있어요.

not-linked = 아직 주문 계정과 연결되지 않았어요. 쇼핑몰의 "메신저 연결" 버튼으로 먼저 연결해 주세요.
stop-confirm = { $shop } 광고성 정보 수신 동의를 철회했어요. (처리일: { $date }) 앞으로 광고는 보내지 않고, 주문·배송 알림만 보내 드릴게요.
unlink-done = { $shop } 주문 계정과의 연결을 끊었어요. 다시 연결하시려면 쇼핑몰의 "메신저 연결" 버튼을 눌러 주세요.
lang-usage = 사용법: /lang ko 또는 /lang en
lang-set = 이제부터 한국어로 안내해 드릴게요.
help-menu = 무엇을 도와드릴까요?
    • 자주 묻는 질문 — 배송, 교환·환불 같은 질문을 그냥 적어 주세요
    • 내 주문 — 주문 알림은 이 채팅으로 보내 드려요
    • 직원과 이야기 — /human 또는 아래 버튼
    • 개인정보 — /mydata 보관 중인 정보 보기, /forget 삭제, /stop 광고 수신 철회, /unlink 연결 끊기
    • /lang ko|en — 안내 언어 바꾸기
unknown-command = 모르는 명령어예요. /help 로 쓸 수 있는 명령어를 확인해 주세요.

discord-dm-sent = DM으로 답장을 보냈어요.
discord-dm-closed = DM을 보낼 수 없어요. 이 서버의 개인정보 설정에서 '서버 멤버가 보내는 다이렉트 메시지 허용'을 켠 뒤 다시 해 주세요.
