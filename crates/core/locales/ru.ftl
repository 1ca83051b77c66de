### DriveWatch's words in Russian: the window, the tray and the notifications.
###
### One catalog per language, embedded by drivewatch-core (toasts, tray) and imported by the
### window's UI, so every string exists once. Placeables are plain text, never markup: names
### from the drive are untrusted and each host renders them as text. Keys are shared with
### en.ftl; a test fails when one of them lacks a key.

## The window
appName = DriveWatch
navChanges = Последние изменения
navStatus = Состояние
navSettings = Настройки
navMain = Основное
needsAttention = требует внимания
demoBadge = Демо-режим
loading = Загрузка…
pausedUntil = { st_paused } до { $time }
resume = Возобновить
skipToContent = К содержимому
dismiss = Закрыть

signInTitle = Вход в Microsoft
signInIntro = DriveWatch следит за вашими библиотеками OneDrive и SharePoint. Войдите в учётную запись, за файлами которой хотите следить.
accountType = Тип учётной записи
kindPersonal = Личная учётная запись
kindPersonalHint = Outlook.com, Hotmail, Live, Xbox
kindWork = Рабочая или учебная
kindWorkHint = Microsoft 365 вашей организации
kindAny = Любая
kindAnyHint = Выбрать на странице входа
getCode = Получить код входа
gettingCode = Получаем код…
codeIntro = Откройте страницу входа и введите этот код:
userCode = Код входа
copy = Копировать
copied = Скопировано
copyFailed = Не удалось скопировать; выделите код и скопируйте вручную
openSignInPage = Открыть страницу входа
orVisit = Или откройте на любом устройстве { $uri }
expiresIn = Код действует ещё { $time }
waiting = Ждём, пока вы завершите вход…
cancel = Отмена
declinedTitle = Вход отклонён
declinedText = На странице входа вы отказались. Ничего не изменилось.
tryAgain = Попробовать снова
expiredTitle = Срок действия кода истёк
expiredText = Код действует всего несколько минут. Получите новый, чтобы продолжить.
newCode = Получить новый код
offlineTitle = Похоже, нет подключения к сети
offlineText = DriveWatch сейчас не может связаться с Microsoft. Попытки продолжатся, пока код действует; проверьте подключение.
failedTitle = Не удалось войти
signedInTitle = Вход выполнен
signedInAs = Вы вошли как { $name } ({ $username })
continue = Продолжить
noClientIdTitle = DriveWatch нужен идентификатор приложения
noClientIdText = Для входа DriveWatch нужен идентификатор приложения (client ID) из регистрации в Microsoft Entra с разрешёнными потоками общедоступного клиента.
noClientIdReadme = Как его получить, описано в README, раздел «Registering DriveWatch with Microsoft».
clientIdLabel = Идентификатор приложения (client ID)
clientIdHint = GUID вида 00000000-0000-0000-0000-000000000000
clientIdInvalid = Это не идентификатор приложения: нужны 32 шестнадцатеричные цифры в пяти группах, например 00000000-0000-0000-0000-000000000000.
save = Сохранить
backToApp = Назад

changesTitle = Последние изменения
filterText = Поиск
filterTextPlaceholder = Имя, папка или человек
filterKinds = Виды изменений
filterWhere = Учётная запись или библиотека
filterAll = Все учётные записи и библиотеки
filterAccounts = Учётные записи
filterTargets = Библиотеки
clearFilters = Сбросить фильтры
kind_created = Создан
kind_modified = Изменён
kind_renamed = Переименован
kind_moved = Перемещён
kind_deleted = Удалён
openItem = Открыть { $name } в браузере
openFolder = Открыть папку
openFolderOf = Открыть папку с { $name } в браузере
inFolder = в { $folder }
rootFolder = корневой папке
fromPath = из { $path }
byPerson = автор: { $name }
byYou = автор: вы
caughtUp = Пока DriveWatch был закрыт
caughtUpHint = Найдено при повторном запуске DriveWatch
noChanges = Изменений пока нет. Они появятся здесь сразу, как только что-то изменится.
noMatches = Нет изменений, подходящих под фильтры.
loadOlder = Загрузить более ранние
loadingOlder = Загружаем более ранние изменения…
endOfHistory = Это вся история.
newChanges = { $count ->
    [one] { $count } новое изменение — показать
    [few] { $count } новых изменения — показать
   *[many] { $count } новых изменений — показать
}
loadFailed = Не удалось загрузить изменения: { $message }
openFailed = Не удалось открыть: { $message }
today = Сегодня
yesterday = Вчера
groupYou = вы
groupSomeone = автор неизвестен
groupItems = { $noun ->
    [folders] { $count ->
        [one] { $count } папка
        [few] { $count } папки
       *[many] { $count } папок
    }
    [items] { $count ->
        [one] { $count } объект
        [few] { $count } объекта
       *[many] { $count } объектов
    }
   *[files] { $count ->
        [one] { $count } файл
        [few] { $count } файла
       *[many] { $count } файлов
    }
}
# The person's grammatical gender is unknown: the verb agrees with the count instead.
groupBurst_created = { $count ->
    [one] { $noun ->
        [folders] Добавлена
       *[other] Добавлен
    }
   *[other] Добавлено
} { $items } в { $folder } · { $who }
groupBurst_modified = { $count ->
    [one] { $noun ->
        [folders] Изменена
       *[other] Изменён
    }
   *[other] Изменено
} { $items } в { $folder } · { $who }
groupBurst_deleted = { $count ->
    [one] { $noun ->
        [folders] Удалена
       *[other] Удалён
    }
   *[other] Удалено
} { $items } из { $folder } · { $who }
groupBurst_renamed = { $count ->
    [one] { $noun ->
        [folders] Переименована
       *[other] Переименован
    }
   *[other] Переименовано
} { $items } в { $folder } · { $who }
groupBurst_moved = { $count ->
    [one] { $noun ->
        [folders] Перемещена
       *[other] Перемещён
    }
   *[other] Перемещено
} { $items } в { $folder } · { $who }
groupBurst_mixed = { $count ->
    [one] { $noun ->
        [folders] Изменена
       *[other] Изменён
    }
   *[other] Изменено
} { $items } в { $folder } · { $who }
groupSession = Правки файла { $name } · { $who }
groupSaves = { $count ->
    [one] { $count } сохранение
    [few] { $count } сохранения
   *[many] { $count } сохранений
}, { $time }
groupMembers = Изменения этой группы
rowMenu = Ещё для { $name }
muteHour = Приглушить { $folder } на 1 час
muteTomorrow = Приглушить { $folder } до завтра
muteAlways = Приглушить { $folder } навсегда
mutedFolder = Уведомления из { $folder } приглушены.
muteFailed = Не удалось приглушить: { $message }
digestBanner = Сводка: { $name }, { $time } · { $count ->
    [one] { $count } изменение
    [few] { $count } изменения
   *[many] { $count } изменений
}
digestScopeFolder = { $folder } в { $name }
digestBack = Ко всем изменениям

statusTitle = Состояние
noTargets = Пока ни за чем не следим. Добавьте библиотеку в настройках.
account = Учётная запись
st_connecting = Подключение
st_connecting_text = Подключаемся к Microsoft…
st_live = На связи
st_live_text = Изменения приходят в момент, когда происходят.
st_polling = Регулярная проверка
st_polling_text = Мгновенные уведомления недоступны, поэтому DriveWatch проверяет изменения раз в несколько минут. Причина: { $reason }
st_reconnecting = Переподключение
st_reconnecting_text = Соединение прервалось; DriveWatch подключается снова. Причина: { $reason }
st_throttled = Пауза по просьбе Microsoft
st_throttled_text = Microsoft попросил DriveWatch подождать; следующая проверка в { $time } ({ $relative }).
st_resyncing = Полная синхронизация
st_resyncing_text = Библиотека читается целиком: пока { $items ->
    [one] { $items } объект
    [few] { $items } объекта
   *[many] { $items } объектов
} на { $pages ->
    [one] { $pages } странице
   *[other] { $pages } страницах
}.
st_needsSignIn = Нужно войти
st_needsSignIn_text = Вход в эту учётную запись истёк или был отозван. Войдите снова, чтобы продолжить.
st_error = Остановлено из-за ошибки
st_error_text = DriveWatch перестал следить за библиотекой: { $reason }
st_stopped = Остановлено
st_stopped_text = Сейчас не отслеживается.
st_paused = Уведомления приостановлены
signInAgain = Войти снова
resyncProgress = Ход синхронизации

settingsTitle = Настройки
accountsTitle = Учётные записи
noAccounts = Учётных записей пока нет.
addAccount = Добавить учётную запись
signOut = Выйти
signOutOf = Выйти из { $name }
accountNeedsSignIn = нужно войти
kindLabel_personal = Личная
kindLabel_work = Рабочая или учебная
kindLabel_any = Учётная запись Microsoft
targetsTitle = Отслеживаемые библиотеки
removeTarget = Убрать
removeTargetOf = Перестать следить за { $name }
addTargetTitle = Следить за другой библиотекой
targetUrl = Адрес OneDrive или SharePoint
targetUrlHint = Вставьте адрес папки или библиотеки документов из браузера.
targetAccount = Учётная запись
add = Добавить
adding = Добавляем…
addedTarget = Теперь отслеживается: { $name }.
url_empty = Сначала вставьте адрес.
url_notUrl = Это не веб-адрес. Скопируйте его из адресной строки браузера, он начинается с https://.
url_notHttps = Адрес должен начинаться с https://.
url_notMicrosoft = Это не адрес OneDrive или SharePoint. Он должен быть на onedrive.live.com, 1drv.ms или сайте *.sharepoint.com.
needAccountFirst = Сначала войдите в учётную запись.
notificationsTitle = Уведомления
notifyOwn = Уведомлять и о моих собственных изменениях
quietHours = Тихие часы (без уведомлений)
quietFrom = С
quietTo = До
mutedTitle = Приглушённые папки и шаблоны
mutedHint = Папка, например /Photos, или шаблон, например *.tmp; изменения там всё равно попадают в список.
mutedNone = Ничего не приглушено.
mutedAdd = Приглушить
mutedRemove = Вернуть уведомления для { $pattern }
mutedLabel = Папка или шаблон
mutesTitle = Приглушено из уведомлений или списка
mutesNone = Сейчас ничего не приглушено.
muteEntry = { $folder } в { $name }
muteEveryTarget = любой библиотеке
muteUntil = до { $time }
muteForGood = навсегда
unmute = Вернуть
unmuteOf = Больше не приглушать { $folder }
pauseTitle = Пауза
pauseOneHour = Пауза на час
pauseTomorrow = Пауза до завтра
notPaused = Уведомления включены.
rulesTitle = Уведомления по библиотекам
rulesHint = Сразу: уведомление при каждом изменении. Сводка: одно уведомление в день. Выключено: без уведомлений. В списке всегда видны все изменения.
rulesNone = Правил нет: все библиотеки уведомляют сразу обо всех видах изменений.
ruleTarget = Библиотека
ruleFolder = Папка
ruleFolderHint = Пусто — вся библиотека
ruleMode = Уведомлять
mode_live = Сразу
mode_digest = Сводка раз в день
mode_off = Выключено
ruleKinds = Виды изменений с уведомлением (ничего не отмечено — все)
ruleAdd = Добавить правило
ruleRemove = Удалить
ruleRemoveOf = Удалить правило для { $name }
ruleWhole = вся библиотека
digestAt = Время ежедневной сводки
sessionMinutes = Сохранения одного файла одним человеком считаются одним сеансом правки, пока между ними меньше стольких минут
appTitle = Приложение
startAtLogin = Запускать DriveWatch при входе в систему
language = Язык
lang_system = Как в системе
lang_en = English
lang_ru = Русский
saved = Сохранено.
saveFailed = Не удалось сохранить: { $message }

## Notifications (built by drivewatch-core's toast policy)
# The person's grammatical gender is unknown, so sentences never agree with $who: the verb
# agrees with the file or folder (or the count) instead.

someone = автор неизвестен
toast_created = { $isFolder ->
    [yes] Добавлена папка
   *[no] Добавлен файл
} { $name } · { $who }
toast_modified = { $isFolder ->
    [yes] Изменена папка
   *[no] Изменён файл
} { $name } · { $who }
toast_deleted = { $isFolder ->
    [yes] Удалена папка
   *[no] Удалён файл
} { $name } · { $who }
toast_renamed = { $isFolder ->
    [yes] Переименована папка
   *[no] Переименован файл
} { $name } · { $who }
toast_renamedFrom = { $isFolder ->
    [yes] Папка { $old } переименована
   *[no] Файл { $old } переименован
} в { $name } · { $who }
toast_moved = { $isFolder ->
    [yes] Перемещена папка
   *[no] Перемещён файл
} { $name } · { $who }
toast_in = в { $folder }
toast_from = из { $folder }
toast_to = в { $folder }
toast_toFrom = в { $folder }, из { $from }
toast_caughtUp = { caughtUp }: { $body }
toast_count = { $noun ->
    [folders] { $count ->
        [one] { $count } папка
        [few] { $count } папки
       *[many] { $count } папок
    }
    [items] { $count ->
        [one] { $count } объект
        [few] { $count } объекта
       *[many] { $count } объектов
    }
   *[files] { $count ->
        [one] { $count } файл
        [few] { $count } файла
       *[many] { $count } файлов
    }
}
toast_burstCreated = { $count ->
    [one] { $noun ->
        [folders] Добавлена
       *[other] Добавлен
    }
   *[other] Добавлено
} { $items } в { $folder } · { $who }
toast_burstModified = { $count ->
    [one] { $noun ->
        [folders] Изменена
       *[other] Изменён
    }
   *[other] Изменено
} { $items } в { $folder } · { $who }
toast_burstDeleted = { $count ->
    [one] { $noun ->
        [folders] Удалена
       *[other] Удалён
    }
   *[other] Удалено
} { $items } из { $folder } · { $who }
toast_burstRenamed = { $count ->
    [one] { $noun ->
        [folders] Переименована
       *[other] Переименован
    }
   *[other] Переименовано
} { $items } в { $folder } · { $who }
toast_burstMoved = { $count ->
    [one] { $noun ->
        [folders] Перемещена
       *[other] Перемещён
    }
   *[other] Перемещено
} { $items } в { $folder } · { $who }
toast_andMore = { $names } и ещё { $rest }
toast_moreChanges = { $count ->
    [one] Ещё { $count } изменение
    [few] Ещё { $count } изменения
   *[many] Ещё { $count } изменений
}
toast_seeAll = Откройте DriveWatch, чтобы увидеть все
toast_open = Открыть
toast_show = Показать в DriveWatch
toast_session = Файл { $name } редактируется · { $who }
toast_sessionSaves = { $count ->
    [one] { $count } сохранение с { $time }
    [few] { $count } сохранения с { $time }
   *[many] { $count } сохранений с { $time }
}
toast_digest = Вчера в «{ $folder }»: { $items } от { $who }
toast_digestAll = Вчера: { $items } от { $who }
toast_digestChanges = { $count ->
    [one] { $count } изменение
    [few] { $count } изменения
   *[many] { $count } изменений
}
# "от 1 человека", "от 2 человек", "от 5 человек", "от 21 человека".
toast_digestPeople = { $count ->
    [one] { $count } человека
   *[many] { $count } человек
}
toast_digestOpen = Откройте DriveWatch, чтобы их увидеть

## The tray menu

tray_status = { $state } · { $time } { $change }
tray_statusEmpty = { $state } · изменений пока нет
tray_noChanges = Изменений пока нет
tray_open = Открыть DriveWatch
tray_pause = Приостановить уведомления
tray_pauseHour = На 1 час
tray_pauseTomorrow = До завтра
tray_signIn = Войти…
tray_quit = Завершить DriveWatch
tray_unread = { $count ->
    [one] { $count } новое изменение
    [few] { $count } новых изменения
   *[many] { $count } новых изменений
}
tray_muted = Заглушённые папки
tray_unmuteUntil = Вернуть уведомления из { $folder } (заглушена до { $time })
tray_unmuteAlways = Вернуть уведомления из { $folder }
tray_muteFor3h = Заглушить { $folder } на 3 часа
