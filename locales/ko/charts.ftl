# The broadcast's charts (src/charts/): the labels drawn into the picture.

chart-title = { $broadcast } 방송 리포트
chart-summary = 구매자 { $buyers }명 · 메신저 연결 { $linked }명 · 별점 { $rated }개 · 30일 안에 다시 주문 { $reordered }명
chart-funnel-title = 감사 인사는 어디까지 닿았나
chart-funnel-buyers = 구매자
chart-funnel-linked = 메신저 연결
chart-funnel-thanked = 감사 인사 보냄
chart-funnel-delivered = 전달됨
chart-funnel-rated = 별점 남김
chart-funnel-value = { $count } · { $percent }%
chart-rating-title = 별점 분포
chart-rating-summary = 평균 { $mean }점 · { $count }개
chart-rating-stars = { $stars }점
chart-rating-empty = 아직 받은 별점이 없어요
chart-comeback-title = 다시 찾아왔나요? 방송 뒤 90일 동안 다시 주문한 구매자 비율
chart-comeback-linked = 메신저 연결 구매자 ({ $buyers }명)
chart-comeback-unlinked = 연결 안 된 구매자 ({ $buyers }명)
chart-comeback-day = { $day }일
chart-comeback-axis = 방송이 끝난 뒤 지난 날
chart-comeback-empty = 아직 다시 주문한 구매자가 없어요
chart-percent = { $percent }%
