# 주문과 방송 후 감사 인사. 고객은 "님"으로 부르고, 조사는 JOSA로 앞말 받침에 맞춥니다.

items-summary = { $others ->
    [0] { $first }
   *[other] { $first } 외 { $others }건
}

thank-you-header = { $name }님, 오늘 「{ $broadcast }」 방송에 함께해 주셔서 정말 고마워요.
    주문하신 내역과 지금 상태를 알려 드릴게요.
thank-you-order-line = • { $items } — { $total }원 · { $status }
thank-you-footer = 상품이 출발하거나 일정이 바뀌면 바로 여기로 알려 드릴게요. 궁금한 점은 언제든 이 채팅에 남겨 주세요.

order-status-placed = 주문 접수
order-status-awaiting_payment = 입금 대기
order-status-paid = 결제 완료
order-status-preparing = 상품 준비 중
order-status-partially_shipped = 일부 출발
order-status-shipped = 출발
order-status-delayed = 발송 지연
order-status-delivered = 배송 완료
order-status-cancelled = 주문 취소
order-status-refunded = 환불 완료
order-status-return_requested = 반품 접수
order-status-returned = 반품 완료
order-status-with-tracking = { $status } ({ $carrier } { $tracking })
order-status-delayed-until = 발송 지연 · 새 예정일 { $date }

order-note-shipped = { $name }님, 주문하신 { $items }{ JOSA($items, "이/가") } 오늘 출발했어요! 🚚
    택배사: { $carrier }
    송장번호: { $tracking }
order-note-tracking-url = 배송 조회: { $url }
order-note-delayed = { $name }님, 먼저 죄송하다는 말씀 드려요.
    주문하신 { $items }의 발송이 늦어지고 있어요.
    사유: { $reason }
    새 발송 예정일: { $date }
    기다려 주시는 마음 알기에 더 서두를게요. 불편을 드려 정말 죄송합니다.
order-note-delivered = { $name }님, { $items }{ JOSA($items, "이/가") } 도착했어요. 마음에 드셨으면 좋겠어요!
order-note-cancelled = { $name }님, 주문하신 { $items }{ JOSA($items, "이/가") } 취소되었어요. 궁금한 점이 있으면 이 채팅에 남겨 주세요.
order-note-refunded = { $name }님, { $items } 주문의 환불({ $total }원)이 완료되었어요. 카드사에 따라 며칠 걸릴 수 있어요.
order-note-placed = { $name }님, { $items } 주문도 잘 받았어요! 상품이 출발하면 다시 알려 드릴게요.
