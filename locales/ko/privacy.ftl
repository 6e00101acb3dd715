# 개인정보: /mydata(보관 중인 정보 보기)와 /forget(삭제). 고객은 "님"으로 부릅니다.

mydata-header = { $name }님, { $shop }{ JOSA($shop, "이/가") } 보관하고 있는 고객님 정보를 모두 알려 드릴게요.
mydata-profile = ■ 기본 정보
mydata-name = 이름: { $name }
mydata-customer-id = 고객 번호: { $id }
mydata-birthday = 생일: { $birthday }
mydata-phone = 휴대폰 번호(카카오톡 알림톡): { $phone }{ $reachable ->
    [yes] {""}
   *[no] {" — 카카오톡 수신이 거부된 번호라 알림톡을 보내지 않아요"}
}
mydata-tier = 등급: { $tier }
mydata-none = (없음)

mydata-identities = ■ 연결된 메신저
mydata-identity = • { $platform ->
        [telegram] 텔레그램
        [discord] 디스코드
       *[other] { $platform }
    } — { $at } 연결

mydata-consents = ■ 광고성 정보 수신 동의 기록
mydata-consent = • { $at } · { $purpose ->
        [night] 야간 광고 수신
       *[marketing] 광고성 정보 수신
    } { $state ->
        [given] 동의
       *[withdrawn] 동의 안 함·철회
    } · 경로: { $source ->
        [telegram] 텔레그램
        [discord] 디스코드
       *[other] { $source }
    } · 방법: { $method ->
        [button] 버튼
        [command] 명령어
        [shop_record] 쇼핑몰 기록
       *[other] { $method }
    }
    보여 드린 문구: "{ $wording }"

mydata-orders = ■ 주문
mydata-order = • { $order_id } ({ $date }) { $items } — { $total }원 · { $status }

mydata-tickets = ■ 상담 내역
mydata-ticket-closed = • #{ $number } — { $opened } 접수, { $closed } 종료
mydata-ticket-open = • #{ $number } — { $opened } 접수, 진행 중

mydata-feedback = ■ 남기신 평가
mydata-feedback-entry = • { $date } · { $about ->
        [ticket] 상담 #{ $subject }
       *[broadcast] 방송 { $subject }
    } · ★{ $rating }
mydata-feedback-comment = 의견: "{ $comment }"

mydata-footer = 정보를 지우고 싶으시면 /forget 을 보내 주세요. 광고 수신만 철회하시려면 /stop 이에요.

forget-confirm = { $name }님, { $shop }에 보관된 개인정보를 정말 삭제할까요?
    이름, 연결된 메신저, 보내 주신 메시지와 의견이 지워지고, 이 채팅으로는 더 이상 알림을 받지 못하세요.
    법에 따라 보관해야 하는 기록(수신 동의 이력, 주문·상담 기록)은 이름 없이 가명으로만 남아요.
forget-button-yes = 삭제할게요
forget-button-no = 그대로 둘게요
forget-kept = 알겠어요. 아무것도 지우지 않았어요.
forget-done = { $shop }에 보관된 개인정보를 삭제했어요. (처리일: { $date }) 그동안 함께해 주셔서 고마웠어요.
