# Privacy: /mydata (what is kept) and /forget (erasing it).

mydata-header = { $name }, here is everything { $shop } keeps about you.
mydata-profile = ■ About you
mydata-name = Name: { $name }
mydata-customer-id = Customer number: { $id }
mydata-birthday = Birthday: { $birthday }
mydata-phone = Mobile number (KakaoTalk notices): { $phone }{ $reachable ->
    [yes] {""}
   *[no] {" — KakaoTalk refused this number, so nothing is sent there"}
}
mydata-tier = Tier: { $tier }
mydata-none = (none)

mydata-identities = ■ Linked messengers
mydata-identity = • { $platform ->
        [telegram] Telegram
        [discord] Discord
       *[other] { $platform }
    } — linked { $at }

mydata-consents = ■ Advertising consent records
mydata-consent = • { $at } · { $purpose ->
        [night] advertising at night
       *[marketing] advertising
    } { $state ->
        [given] given
       *[withdrawn] not given or withdrawn
    } · where: { $source ->
        [telegram] Telegram
        [discord] Discord
       *[other] { $source }
    } · how: { $method ->
        [button] button
        [command] command
        [shop_record] shop record
       *[other] { $method }
    }
    Words shown: "{ $wording }"

mydata-orders = ■ Orders
mydata-order = • { $order_id } ({ $date }) { $items } — ₩{ $total } · { $status }

mydata-tickets = ■ Conversations with our staff
mydata-ticket-closed = • #{ $number } — opened { $opened }, closed { $closed }
mydata-ticket-open = • #{ $number } — opened { $opened }, still open

mydata-feedback = ■ Your ratings
mydata-feedback-entry = • { $date } · { $about ->
        [ticket] conversation #{ $subject }
       *[broadcast] broadcast { $subject }
    } · ★{ $rating }
mydata-feedback-comment = Comment: "{ $comment }"

mydata-footer = To erase this, send /forget. To stop advertising only, send /stop.

forget-confirm = { $name }, do you really want { $shop } to erase your personal data?
    Your name, linked messengers, the messages you sent and your comments will be deleted, and this chat will no longer get our notes.
    Records the law requires us to keep (consent history, orders and support tickets) stay, without your name, under a pseudonym.
forget-button-yes = Erase my data
forget-button-no = Keep it
forget-kept = All right. Nothing was erased.
forget-done = { $shop } has erased your personal data. (Date: { $date }) Thank you for having been with us.
