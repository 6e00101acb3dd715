# 직원 채팅방에서 쓰는 명령어와 리포트.

staff-refused = 죄송해요, 이 명령어는 등록된 직원만 쓸 수 있어요.
staff-usage-ended = 사용법: /ended 방송ID
staff-ended = 방송 { $broadcast } 종료를 기록했어요. 감사 인사 { $count }건을 새로 보내요.
staff-usage-delay = 사용법: /delay 방송ID YYYY-MM-DD 사유
staff-delayed = 방송 { $broadcast }의 진행 중인 주문 { $count }건에 발송 지연(새 예정일 { $date })을 안내해요.
staff-usage-report = 사용법: /report 방송ID
staff-report = { $report }
staff-report-unknown = 방송 { $broadcast }에 대한 기록이 없어요.

report-text = 📊 「{ $broadcast }」 방송 리포트
    구매자 { $buyers }명 (메신저 연결 { $linked }명, 미연결 { $unlinked }명)
    감사 인사: 보냄 { $sent } · 전달됨 { $delivered } · 실패 { $failed } · 차단 { $blocked }
    { $platforms }
    주문 알림: 출발 { $shipped } · 지연 { $delayed } · 도착 { $notes_delivered } · 취소 { $cancelled } · 환불 { $refunded }
    별점: { $feedback }건 · 평균 { $mean } · 분포 { $distribution } · 의견 { $comments }건
    상담 연결: { $opened }건 · 약속 시간 안에 답변 { $answered }건 · 진행 중 { $open }건
    코드: 보냄 { $codes_sent } · 사용 { $codes_redeemed } · 부정 사용 { $codes_violations }
    광고: 야간 보류 { $ads_held } · 주간 한도로 연기 { $ads_postponed } · 미동의로 안 보냄 { $ads_refused } · 만료 { $ads_expired }
    재구매: 7일 안 { $re7 }명{ $re7_complete ->
        [yes] {""}
       *[no] {" (집계 중)"}
    } · 30일 안 { $re30 }명{ $re30_complete ->
        [yes] {""}
       *[no] {" (집계 중)"}
    } · 90일 안 { $re90 }명{ $re90_complete ->
        [yes] {""}
       *[no] {" (집계 중)"}
    }
    30일 안 재구매: 메신저 연결 { $linked_buyers }명 중 { $linked_re30 }명 · 미연결 { $unlinked_buyers }명 중 { $unlinked_re30 }명 · 다음 방송 시청 { $watched_next }명
    맞춤 추천 알림: 보냄 { $picks_sent } · 7일 안에 추천 상품 주문 { $picks_ordered }
    종류별:
    { $kinds }
report-kind-line = • { $kind }: 보냄 { $sent } · 전달됨 { $delivered } · 실패 { $failed } · 차단 { $blocked }
report-platform-line = • { $platform ->
        [telegram] 텔레그램
       *[discord] 디스코드
    }: 보냄 { $sent } · 전달됨 { $delivered } · 실패 { $failed } · 차단 { $blocked }
report-kakao-line = • 카카오톡 알림톡: 보냄 { $sent } · 전달됨 { $delivered } · 실패 { $failed } · 차단 { $blocked } · 템플릿 없음 { $no_template }

staff-usage-reply = 사용법: /reply 문의번호 내용 (또는 문의 카드에 답장)
staff-usage-close = 사용법: /close 문의번호
staff-usage-reflected = 사용법: /reflected 후기번호(또는 방송ID) 반영한 내용
staff-ticket-card = 🎫 문의 #{ $ticket } · { $name } ({ $customer })
    등급: { $tier }
    최근 주문: { $orders }
    최근 메시지:
    { $messages }
    이 메시지에 답장하거나 /reply { $ticket } 내용 으로 답해 주세요. 끝나면 /close { $ticket }
staff-ticket-relay = #{ $ticket } { $name }: { $text }
staff-ticket-unknown = 문의 #{ $ticket }를 찾지 못했어요.
staff-ticket-closed-already = 문의 #{ $ticket }는 이미 종료되었어요.
staff-ticket-closed = 문의 #{ $ticket }를 종료하고 고객에게 상담 평가를 요청했어요.
staff-ticket-reminder = ⏰ 문의 #{ $ticket }에 { $hours }시간이 지나도록 답이 없어요. 고객에게는 진행 안내를 보냈어요.
staff-feedback-comment = 💬 후기 #{ $feedback } (방송 { $broadcast }, { $rating }점) { $name }: { $text }
    반영했다면 /reflected { $feedback } 반영한 내용
staff-reflected = 의견을 남긴 고객 { $count }명에게 반영 소식을 보내요.
staff-reflected-unknown = 후기 { $feedback }를 찾지 못했어요.

period-report-text = 📊 { $since } 이후 리포트
    코드: 보냄 { $sent } · 사용 { $redeemed } · 부정 사용 { $violations }
    { $campaigns }
    여정:
    { $journeys }
    광고: 야간 보류 { $held } · 주간 한도로 연기 { $postponed } · 미동의로 안 보냄 { $refused } · 만료 { $expired }
period-report-campaign = • { $campaign }: 보냄 { $sent } · 사용 { $redeemed } · 부정 사용 { $violations } · 남은 코드 { $left }
period-report-journey = • { $journey } ({ $variant }): 보냄 { $sent } · 7일 안에 주문 { $conversions }
period-report-journey-cause = {"    "}◦ 원인 { $cause }: 보냄 { $sent } · 30일 안에 다시 주문 { $returned }
staff-usage-changed = 사용법: /changed delivery|quality|service|price 바꾼 내용
staff-changed = 기록했어요({ $cause }): { $note }
    이제부터 이 원인으로 다시 찾아 주세요 메시지를 받는 고객님께 이 내용을 전해요.
staff-changed-too-long = 내용이 너무 길어요: 최대 { $max }자인데 { $chars }자예요.
