# 직원 채팅방에서 쓰는 명령어와 리포트.

staff-refused = 죄송해요, 이 명령어는 등록된 직원만 쓸 수 있어요.
staff-usage-ended = 사용법: /ended 방송ID
staff-ended = 방송 { $broadcast } 종료를 기록했어요. 감사 인사 { $count }건을 새로 보내요.
staff-usage-delay = 사용법: /delay 방송ID YYYY-MM-DD 사유
staff-delayed = 방송 { $broadcast }의 진행 중인 주문 { $count }건에 발송 지연(새 예정일 { $date })을 안내해요.
staff-usage-report = 사용법: /report 방송ID
staff-report = { $report }
staff-report-unknown = 방송 { $broadcast }에 대한 기록이 없어요.
staff-not-yet = /{ $command } 명령어는 아직 이 버전에서 지원하지 않아요.

report-text = 📊 「{ $broadcast }」 방송 리포트
    구매자 { $buyers }명 (메신저 연결 { $linked }명, 미연결 { $unlinked }명)
    감사 인사: 보냄 { $sent } · 전달됨 { $delivered } · 실패 { $failed } · 차단 { $blocked }
    주문 알림: 출발 { $shipped } · 지연 { $delayed } · 도착 { $notes_delivered } · 취소 { $cancelled } · 환불 { $refunded }
    종류별:
    { $kinds }
report-kind-line = • { $kind }: 보냄 { $sent } · 전달됨 { $delivered } · 실패 { $failed } · 차단 { $blocked }
