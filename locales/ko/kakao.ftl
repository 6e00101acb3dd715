# 카카오톡 알림톡(CONTRACT §11)의 #{변수}에 들어갈 말. 템플릿 본문은 가게가 카카오 검수를 받아
# 등록한 것(docs/kakao.md)이라 여기 없고, 변수 값만 채팅 메시지와 같은 사실로 씁니다.
# 변수 바로 뒤에는 조사가 오지 않게 템플릿을 썼으니, 이름에는 "님"까지 넣습니다.

alimtalk-name = { $name }님
alimtalk-amount = { $total }원
# 주문이 여럿일 때 상품끼리, 주문 상태끼리 잇는 말
alimtalk-items-separator = {", "}
alimtalk-status-separator = {" / "}
