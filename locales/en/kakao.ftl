# The values of KakaoTalk 알림톡 #{variables} (CONTRACT §11). The template texts are the shop's,
# approved by Kakao (docs/kakao.md); only the values are written here, from the same facts as the
# chat message.

alimtalk-name = { $name }
alimtalk-amount = ₩{ $total }
# Between the items, and between the statuses, of several orders
alimtalk-items-separator = {", "}
alimtalk-status-separator = {" / "}
